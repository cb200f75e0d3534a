"""The synthesizer Settings.tts_backend names, built once per process and shared.

Backends start slowly (espeak-ng initialises once per process, Piper loads a voice model), so
they are cached here. Piper's module is imported only when it is chosen: the GPL-3.0 extra is
never loaded by a deployment that does not ask for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .null_backend import NullSynthesizer
from .pyttsx3_backend import Pyttsx3Synthesizer
from .base import BaseSynthesizer
from ...config import Settings, reveal


def _piper(_settings: Settings) -> BaseSynthesizer:
    from .piper_backend import PiperSynthesizer  # lazy: the optional GPL-3.0 extra

    return PiperSynthesizer()


def _openai(settings: Settings) -> BaseSynthesizer:
    from .openai_api_backend import OpenAISpeechClient  # lazy: only a deployment with a speech server

    return OpenAISpeechClient.from_settings(settings)


_BACKENDS: dict[str, Callable[[Settings], BaseSynthesizer]] = {
    "pyttsx3": lambda _settings: Pyttsx3Synthesizer(),
    "piper": _piper,
    "openai": _openai,
    "none": lambda _settings: NullSynthesizer(),
}
_cache: dict[tuple, BaseSynthesizer] = {}
_cache_lock = threading.Lock()


def _cache_key(settings: Settings) -> tuple:
    """A local backend is one per process; a remote one is one per server, model and voice."""
    if settings.tts_backend != "openai":
        return (settings.tts_backend,)
    return ("openai", settings.tts_openai_base_url or settings.openai_base_url, settings.tts_openai_model,
            settings.tts_openai_voice, reveal(settings.tts_openai_api_key or settings.openai_api_key))


def loaded_synthesizer(settings: Settings) -> BaseSynthesizer | None:
    """The synthesizer already built for these settings, or None; never builds one (the
    readiness probe asks this on every call)."""
    with _cache_lock:
        return _cache.get(_cache_key(settings))


def build_synthesizer(settings: Settings | None = None) -> BaseSynthesizer:
    """The synthesizer for settings.tts_backend, built once per process and reused."""
    if settings is None:
        from ...config import get_settings

        settings = get_settings()
    backend = settings.tts_backend
    if backend not in _BACKENDS:
        raise ValueError(f"unknown tts_backend {backend!r}; choose one of {', '.join(_BACKENDS)}")
    key = _cache_key(settings)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _BACKENDS[backend](settings)
        return _cache[key]
