"""Streaming voice activity detection with the Silero ONNX model that faster-whisper ships.

Silero v6 scores 512-sample windows (32 ms at 16 kHz); each window is fed with the last
64 samples of the previous one as context, and the recurrent state (h, c) is carried
across calls, so one `SileroVAD` instance belongs to one audio stream.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
WINDOW = 512
CONTEXT = 64


def silero_model_path() -> Path:
    import faster_whisper

    path = Path(faster_whisper.__file__).resolve().parent / "assets" / "silero_vad_v6.onnx"
    if not path.exists():  # pragma: no cover - install problem
        raise RuntimeError(f"Silero VAD model not found at {path}; reinstall faster-whisper (make setup)")
    return path


@lru_cache(maxsize=1)
def _session():
    import onnxruntime

    opts = onnxruntime.SessionOptions()
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 4
    return onnxruntime.InferenceSession(os.fspath(silero_model_path()), providers=["CPUExecutionProvider"], sess_options=opts)


class SileroVAD:
    """Speech probability per 32 ms window of a 16 kHz stream."""

    window_ms = WINDOW * 1000 / SAMPLE_RATE

    def __init__(self) -> None:
        self.session = _session()
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def process(self, audio: np.ndarray) -> list[tuple[float, np.ndarray]]:
        """Feed float32 samples in [-1, 1]; returns (probability, window) per completed window."""
        self._pending = np.concatenate([self._pending, audio.astype(np.float32, copy=False)])
        probs = []
        while len(self._pending) >= WINDOW:
            window, self._pending = self._pending[:WINDOW], self._pending[WINDOW:]
            x = np.concatenate([self._context, window])[None, :]
            out, self._h, self._c = self.session.run(None, {"input": x, "h": self._h, "c": self._c})
            self._context = window[-CONTEXT:]
            probs.append((float(np.asarray(out).reshape(-1)[0]), window))
        return probs


def pcm16_to_float(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
