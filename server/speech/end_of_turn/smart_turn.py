"""The acoustic end-of-turn judge: smart-turn v3 (Daily, BSD-2-Clause) on the turn's audio.

The model and its Whisper-style log-mel code ship inside the `pipecat-ai` wheel, which setup
installs `--no-deps`. Both are loaded from the installed distribution's files rather than by
importing `pipecat`: the package's `__init__` needs loguru and logs a banner, and nothing else
of pipecat is needed here. The model file is never copied into this repository.

It reads prosody (pitch and timing at the end of the clip), so it complements the textual
judge, which reads words; on espeak-ng speech it is unreliable (issue 18), which is why the
combination rule is chosen on recorded turns, not assumed.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
WINDOW_S = 8  # the model reads the last 8 s, zero-padded in front when shorter
DISTRIBUTION = "pipecat-ai"
MODEL_FILE = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
FEATURES_FILE = "pipecat/audio/turn/smart_turn/_whisper_features.py"


class SmartTurnUnavailable(RuntimeError):
    pass


def _installed_file(relative: str) -> Path:
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise SmartTurnUnavailable(
            f"the acoustic end-of-turn judge needs the {DISTRIBUTION} wheel: "
            f"run `make setup`, or `.venv/bin/pip install --no-deps {DISTRIBUTION}`") from None
    path = Path(dist.locate_file(relative))
    if not path.is_file():
        raise SmartTurnUnavailable(f"{relative} is missing from the installed {DISTRIBUTION} "
                                   f"{dist.version}; reinstall it with `pip install --no-deps --force-reinstall {DISTRIBUTION}`")
    return path


def _log_mel():
    spec = importlib.util.spec_from_file_location("bedside_smart_turn_features", _installed_file(FEATURES_FILE))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.compute_whisper_log_mel_features


def last_window(audio: np.ndarray) -> np.ndarray:
    """The last `WINDOW_S` seconds, zero-padded in front: what the model was trained on."""
    n = WINDOW_S * SAMPLE_RATE
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    return audio[-n:] if len(audio) >= n else np.pad(audio, (n - len(audio), 0))


class SmartTurnModel:
    """P(the learner has finished) from the audio of the turn so far (16 kHz float32)."""

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime as ort

        model = _installed_file(MODEL_FILE)
        self.version = f"smart-turn-v3.2-cpu+{DISTRIBUTION}-{importlib.metadata.version(DISTRIBUTION)}"
        self._features = _log_mel()
        options = ort.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = threads
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])

    def probability_complete_audio(self, audio: np.ndarray) -> float:
        if len(audio) == 0:
            return 0.5
        features = self._features(last_window(audio), do_normalize=True)
        out = self._session.run(None, {"input_features": features[None, ...]})
        return float(np.asarray(out[0]).reshape(-1)[0])
