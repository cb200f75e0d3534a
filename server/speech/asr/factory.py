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


def remote_asr(settings) -> tuple[str | None, str, str | None]:
    """asr_backend "openai": (base URL, model, API key), each the ASR-specific setting, else the
    shared openai_* one, so the transcription server can differ from the judge's chat server."""
    base = getattr(settings, "asr_openai_base_url", None) or settings.openai_base_url
    model = getattr(settings, "asr_openai_model", None) or settings.openai_model or "whisper-1"
    key = getattr(settings, "asr_openai_api_key", None) or settings.openai_api_key
    return base, model, reveal(key)


def _cache_key(settings) -> tuple:
    backend = settings.asr_backend
    if backend == "openai":
        return (backend, *remote_asr(settings))
    return (backend, str(Path(settings.models_dir).resolve()), getattr(settings, "asr_short_context", True),
            getattr(settings, "asr_prompt", None))


def loaded_transcriber(settings) -> Transcriber | None:
    """The transcriber already built for these settings, or None; never builds one (the
    readiness probe asks this on every call, and loading Whisper takes seconds)."""
    with _CACHE_LOCK:
        return _CACHE.get(_cache_key(settings))


def build_transcriber(settings) -> Transcriber:
    """One engine per configuration per process: loading Whisper takes seconds and ~200 MB."""
    backend = settings.asr_backend
    key = _cache_key(settings)
    with _CACHE_LOCK:
        if key not in _CACHE:
            if backend == "faster-whisper":
                from ..model_files import whisper_ct2_dir
                from .faster_whisper_backend import FasterWhisperTranscriber

                _CACHE[key] = FasterWhisperTranscriber(whisper_ct2_dir(settings.models_dir),
                                                       short_context=getattr(settings, "asr_short_context", True),
                                                       prompt=getattr(settings, "asr_prompt", None))
            elif backend == "openai-whisper":
                from .openai_whisper_backend import OpenAIWhisperTranscriber, openai_whisper_checkpoint

                _CACHE[key] = OpenAIWhisperTranscriber(openai_whisper_checkpoint(settings.models_dir))
            elif backend == "openai":
                from .openai_api_backend import OpenAITranscriptionClient

                base, model, api_key = remote_asr(settings)
                _CACHE[key] = OpenAITranscriptionClient(base, api_key, model)
            else:
                raise ValueError(f"unknown asr_backend {backend!r}")
        return _CACHE[key]


def clear_transcriber_cache() -> None:
    with _CACHE_LOCK:
        for engine in _CACHE.values():
            if hasattr(engine, "close"):
                engine.close()
        _CACHE.clear()
