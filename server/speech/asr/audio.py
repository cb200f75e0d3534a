"""Audio in and out of the ASR engines: 16 kHz mono float32 in, 16-bit WAV for remote servers.

Whisper is trained on 16 kHz audio, so every path (microphone, files, benchmarks, the remote
client) meets here on one sample rate and one array type.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000


def as_mono_float32(audio: np.ndarray) -> np.ndarray:
    """The array every engine takes: contiguous 1-D float32 (a ValueError for anything else)."""
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim != 1:
        raise ValueError(f"expected mono audio (1-D), got shape {a.shape}")
    return np.ascontiguousarray(a)


def wav_bytes(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM WAV in memory: the one format every transcription server accepts."""
    pcm = (np.clip(as_mono_float32(audio), -1.0, 1.0) * 32767.0).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def resample_to_16k(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Band-limited polyphase resampling to the 16 kHz Whisper expects."""
    from math import gcd

    from scipy.signal import resample_poly

    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 2:
        a = a.mean(axis=1)
    if sample_rate == SAMPLE_RATE:
        return np.ascontiguousarray(a)
    g = gcd(SAMPLE_RATE, int(sample_rate))
    return resample_poly(a, SAMPLE_RATE // g, int(sample_rate) // g).astype(np.float32)


def read_audio_16k(source) -> np.ndarray:
    """Any file soundfile reads (WAV, FLAC, OGG), as a path or a binary file object."""
    import soundfile as sf

    audio, sr = sf.read(str(source) if isinstance(source, (str, Path)) else source, dtype="float32",
                        always_2d=False)
    return resample_to_16k(audio, sr)
