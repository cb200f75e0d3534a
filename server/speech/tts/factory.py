"""The synthesizer Settings.tts_backend names, built once per process and shared.

Backends start slowly (espeak-ng initialises once per process, Piper loads a voice model), so
they are cached here. Piper's module is imported only when it is chosen: the GPL-3.0 extra is
never loaded by a deployment that does not ask for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .null_backend import NullSynthesizer
from .pyttsx3_backend import Pyttsx3Synthesizer
from .base import BaseSynthesizer

if TYPE_CHECKING:
    from ...config import Settings


def _piper() -> BaseSynthesizer:
    from .piper_backend import PiperSynthesizer  # lazy: the optional GPL-3.0 extra

    return PiperSynthesizer()


_BACKENDS: dict[str, Callable[[], BaseSynthesizer]] = {
    "pyttsx3": Pyttsx3Synthesizer,
    "piper": _piper,
    "none": NullSynthesizer,
}
_cache: dict[str, BaseSynthesizer] = {}
_cache_lock = threading.Lock()


def build_synthesizer(settings: Settings | None = None) -> BaseSynthesizer:
    """The synthesizer for settings.tts_backend, built once per process and reused."""
    if settings is None:
        from ...config import get_settings

        settings = get_settings()
    backend = settings.tts_backend
    if backend not in _BACKENDS:
        raise ValueError(f"unknown tts_backend {backend!r}; choose one of {', '.join(_BACKENDS)}")
    with _cache_lock:
        if backend not in _cache:
            _cache[backend] = _BACKENDS[backend]()
        return _cache[backend]
