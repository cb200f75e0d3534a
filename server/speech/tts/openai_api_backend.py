"""tts_backend "openai": speech from a server that speaks the OpenAI speech API (POST /v1/audio/speech):
vLLM-Omni, Speaches, Kokoro-FastAPI, a hosted service (docs/deploy.md lists them).

A remote voice fails in ways a local one does not (down, slow, a reply that is not audio). A sentence
the server cannot speak is logged and comes back as silence: the patient's words are on the screen
already, so the turn goes on instead of failing, and the next sentence asks the server again.

The reply is asked for as WAV, the one format that says its own sample rate (servers differ: 16, 22.05,
24 or 44.1 kHz). Persona voices are espeak names, which a remote server does not know, so one server
voice (`tts_openai_voice`) speaks for every persona; the emotional state still sets the speed and the
loudness, as it does for Piper.
"""

from __future__ import annotations

import logging
import struct
from typing import TYPE_CHECKING

import numpy as np

from ...config import reveal
from ...persona.schema import Voice
from ..openai_http import endpoint, http_client
from .base import DEFAULT_SAMPLE_RATE, BaseSynthesizer, SpeechAudio, TTSUnavailable
from .prosody import gain_for, prosody_for
from .sentences import speakable

if TYPE_CHECKING:
    from ...core.types import EmotionalState

log = logging.getLogger(__name__)

REFERENCE_WPM = 160  # the persona rate spoken at the server's own speed (speed 1.0), as for Piper
SPEED_MIN, SPEED_MAX = 0.25, 4.0  # the range the OpenAI speech API accepts
_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


class SpeechServerError(RuntimeError):
    """The server gave no usable audio for one sentence."""


def speed_for(rate_wpm: int) -> float:
    """The API's speed multiplier for a persona rate in words per minute."""
    return round(min(SPEED_MAX, max(SPEED_MIN, rate_wpm / REFERENCE_WPM)), 3)


def wav_to_pcm16(body: bytes) -> tuple[bytes, int]:
    """(mono 16-bit PCM, sample rate) from a WAV file of 16-bit or float samples, any channel count.

    Walks the RIFF chunks itself: a server that streams its WAV writes the header before it knows
    the length, so the sizes in it may be 0 or 0xFFFFFFFF; the data then runs to the end of the body.
    """
    if len(body) < 12 or body[:4] != b"RIFF" or body[8:12] != b"WAVE":
        raise SpeechServerError(f"the reply is not a WAV file (it starts {body[:12]!r})")
    fmt, pos = None, 12
    while pos + 8 <= len(body):
        chunk, size = body[pos:pos + 4], struct.unpack("<I", body[pos + 4:pos + 8])[0]
        start = pos + 8
        if chunk == b"fmt ":
            tag, channels, rate = struct.unpack("<HHI", body[start:start + 8])
            bits = struct.unpack("<H", body[start + 14:start + 16])[0]
            if tag == _EXTENSIBLE:  # the real format tag opens the sub-format GUID
                tag = struct.unpack("<H", body[start + 24:start + 26])[0]
            fmt = (tag, channels, rate, bits)
        elif chunk == b"data":
            if fmt is None:
                raise SpeechServerError("the WAV reply has its data before its format")
            end = len(body) if size in (0, 0xFFFFFFFF) else min(len(body), start + size)
            return _to_mono16(body[start:end], *fmt), fmt[2]
        pos = start + size + (size & 1)
    raise SpeechServerError("the WAV reply has no audio data")


def _to_mono16(data: bytes, tag: int, channels: int, rate: int, bits: int) -> bytes:
    if tag == _PCM and bits == 16:
        x = np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2").astype(np.float32) / 32768
    elif tag == _FLOAT and bits == 32:
        x = np.frombuffer(data[: len(data) - len(data) % 4], dtype="<f4")
    else:
        raise SpeechServerError(f"WAV samples of format {tag} at {bits} bits are not supported (16-bit PCM or "
                                "32-bit float are)")
    if channels > 1:
        x = x[: len(x) - len(x) % channels].reshape(-1, channels).mean(axis=1)
    return (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()


class OpenAISpeechClient(BaseSynthesizer):
    """Remote TTS over the OpenAI speech API, one request per sentence."""

    name = "openai"

    def __init__(self, base_url: str | None, api_key: str | None = None, model: str = "tts-1", voice: str = "alloy",
                 timeout_s: float = 15.0, connect_timeout_s: float = 3.0):
        if not base_url:
            raise TTSUnavailable("tts_backend 'openai' needs a speech server: set BEDSIDE_TTS_OPENAI_BASE_URL (or "
                                 "BEDSIDE_OPENAI_BASE_URL), e.g. http://gpu-host:8003/v1")
        self.url = endpoint(base_url, "audio/speech")
        self.model, self.voice = model, voice
        self._sample_rate = None  # known from the first reply
        self._client = http_client(api_key, timeout_s, connect_timeout_s)

    @classmethod
    def from_settings(cls, settings) -> "OpenAISpeechClient":
        return cls(settings.tts_openai_base_url or settings.openai_base_url,
                   reveal(settings.tts_openai_api_key or settings.openai_api_key), settings.tts_openai_model,
                   settings.tts_openai_voice, timeout_s=settings.tts_openai_timeout_s,
                   connect_timeout_s=settings.realiser_connect_timeout_s)

    def synthesize(self, text: str, voice: Voice, state: EmotionalState | None = None) -> SpeechAudio:
        text = speakable(text)
        if not text:
            return SpeechAudio(b"", self._sample_rate or DEFAULT_SAMPLE_RATE)
        rate, _pitch = prosody_for(voice, state)
        try:
            pcm, sample_rate = self._speak(text, speed_for(rate))
        except SpeechServerError as exc:
            log.error("speech server at %s: %s; the sentence is shown but not spoken", self.url, exc)
            return SpeechAudio(b"", self._sample_rate or DEFAULT_SAMPLE_RATE)
        gain = gain_for(state)
        if gain != 1.0:
            pcm = (np.frombuffer(pcm, dtype="<i2").astype(np.float32) * gain).astype("<i2").tobytes()
        self._sample_rate = sample_rate
        return SpeechAudio(pcm, sample_rate)

    def _speak(self, text: str, speed: float) -> tuple[bytes, int]:
        import httpx

        body = {"model": self.model, "input": text, "voice": self.voice, "response_format": "wav", "speed": speed}
        try:
            resp = self._client.post(self.url, json=body)
        except httpx.TimeoutException as exc:
            raise SpeechServerError(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise SpeechServerError(f"cannot reach it: {exc}") from exc
        if resp.status_code != 200:
            raise SpeechServerError(f"answered {resp.status_code}: {resp.text[:200]}")
        return wav_to_pcm16(resp.content)

    def close(self) -> None:
        self._client.close()
