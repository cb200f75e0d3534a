"""The transcriber Settings.asr_backend names, one per configuration per process.

Loading Whisper takes seconds and ~200 MB, so engines are cached by everything that makes
them differ. Each backend's module is imported only when it is chosen.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ...config import reveal
from .base import Transcriber

_CACHE: dict[tuple, Transcriber] = {}
_CACHE_LOCK = threading.Lock()


def build_transcriber(settings) -> Transcriber:
    """One engine per configuration per process: loading Whisper takes seconds and ~200 MB."""
    backend = settings.asr_backend
    if backend == "openai":
        model = getattr(settings, "openai_asr_model", None) or settings.openai_model or "whisper-1"
        key: tuple = (backend, settings.openai_base_url, reveal(settings.openai_api_key), model)
    else:
        key = (backend, str(Path(settings.models_dir).resolve()), getattr(settings, "asr_short_context", True))
    with _CACHE_LOCK:
        if key not in _CACHE:
            if backend == "faster-whisper":
                from ..model_files import whisper_ct2_dir
                from .faster_whisper_backend import FasterWhisperTranscriber

                _CACHE[key] = FasterWhisperTranscriber(whisper_ct2_dir(settings.models_dir),
                                                       short_context=getattr(settings, "asr_short_context", True))
            elif backend == "openai-whisper":
                from .openai_whisper_backend import OpenAIWhisperTranscriber, openai_whisper_checkpoint

                _CACHE[key] = OpenAIWhisperTranscriber(openai_whisper_checkpoint(settings.models_dir))
            elif backend == "openai":
                from .openai_api_backend import OpenAITranscriptionClient

                _CACHE[key] = OpenAITranscriptionClient(settings.openai_base_url, reveal(settings.openai_api_key), model)
            else:
                raise ValueError(f"unknown asr_backend {backend!r}")
        return _CACHE[key]


def clear_transcriber_cache() -> None:
    with _CACHE_LOCK:
        for engine in _CACHE.values():
            if hasattr(engine, "close"):
                engine.close()
        _CACHE.clear()
