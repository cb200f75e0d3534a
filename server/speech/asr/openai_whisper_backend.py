"""asr_backend "openai-whisper": the reference PyTorch Whisper from the optional extra.

It runs the same Whisper base weights as the default engine, converted from the CTranslate2
model by `ct2_convert`; the checkpoint it loads is made (and remade when stale) here.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from ...extras import require
from .audio import SAMPLE_RATE, as_mono_float32
from .base import Transcript, summarise_segments, whisper_language

OPENAI_WHISPER_CHECKPOINT = "whisper-base-openai.pt"


def openai_whisper_checkpoint(models_dir: Path) -> Path:
    """`<models_dir>/whisper-base-openai.pt`, converted from the CT2 model when missing or stale."""
    from ..ct2_convert import convert_ct2_to_openai_whisper
    from ..model_files import whisper_ct2_dir

    out = Path(models_dir) / OPENAI_WHISPER_CHECKPOINT
    src = whisper_ct2_dir(models_dir)
    if not out.is_file() or out.stat().st_mtime < (src / "model.bin").stat().st_mtime:
        convert_ct2_to_openai_whisper(src, out)
    return out


def _apply_alignment_heads(model, heads: list[list[int]]) -> None:
    """Our converted checkpoints carry the (layer, head) pairs used for word timestamps."""
    import torch

    mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
    for layer, head in heads:
        mask[layer, head] = True
    model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)


class OpenAIWhisperTranscriber:
    """The reference PyTorch implementation; loads any openai-whisper checkpoint file."""

    backend = "openai-whisper"

    def __init__(self, checkpoint_path: Path, cpu_threads: int | None = None):
        import torch

        whisper = require("whisper", "openai-whisper", "the openai-whisper ASR backend")
        self.checkpoint_path = Path(checkpoint_path)
        if not self.checkpoint_path.is_file():
            raise FileNotFoundError(
                f"openai-whisper checkpoint {self.checkpoint_path} does not exist; create it with "
                "`bedside models convert-whisper` or point at a checkpoint you downloaded yourself")
        if cpu_threads:
            torch.set_num_threads(cpu_threads)  # process-wide: only set when asked
        self.model_name = self.checkpoint_path.stem
        self._model = whisper.load_model(str(self.checkpoint_path), device="cpu")
        try:  # mmap: reads the small pickle, not the weights again
            extra = torch.load(self.checkpoint_path, map_location="cpu", mmap=True, weights_only=True)
            heads = extra.get("alignment_heads")
        except (RuntimeError, ValueError, OSError):  # legacy (non-zip) checkpoints cannot be mapped
            heads = None
        if heads:
            _apply_alignment_heads(self._model, heads)
        self._lock = threading.Lock()

    def transcribe(self, audio: np.ndarray, language: str | None = None) -> Transcript:
        audio = as_mono_float32(audio)
        start = time.perf_counter()
        with self._lock:
            result = self._model.transcribe(audio, language=whisper_language(language), fp16=False,
                                            temperature=0.0, condition_on_previous_text=False, verbose=None)
        parts = [(s["text"], s["no_speech_prob"], s["avg_logprob"], len(s["tokens"])) for s in result["segments"]]
        text, no_speech, logprob = summarise_segments(parts)
        return Transcript(text=text, language=result.get("language"), no_speech_prob=no_speech,
                          avg_logprob=logprob, duration_s=len(audio) / SAMPLE_RATE, backend=self.backend,
                          model=self.model_name, elapsed_ms=(time.perf_counter() - start) * 1000)
