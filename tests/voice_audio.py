"""Learner audio for voice tests and benchmarks, synthesised with espeak-ng at run time."""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from server.speech.asr.audio import read_audio_16k

RATE = 16000
CHUNK_MS = 20


def speech(text: str, voice: str = "en", speed: int = 150) -> np.ndarray:
    """16 kHz float32 speech for `text` (espeak-ng, leading/trailing silence trimmed)."""
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True)
        return trim(read_audio_16k(wav))


def trim(audio: np.ndarray) -> np.ndarray:
    """`audio` without its leading and trailing silence (below 0.02 of full scale)."""
    loud = np.flatnonzero(np.abs(audio) > 0.02)
    return audio[loud[0]: loud[-1] + 1] if len(loud) else audio


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.float32)


def white_noise(seconds: float, level: float = 0.1, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * RATE)) * level).astype(np.float32)


def pcm16(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


async def stream(ws_send, audio: np.ndarray, *, realtime: bool = True, chunk_ms: int = CHUNK_MS) -> None:
    """Send audio as 20 ms PCM16 chunks, paced like a microphone when `realtime`."""
    data = pcm16(audio)
    step = RATE * chunk_ms // 1000 * 2
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for i, off in enumerate(range(0, len(data), step)):
        await ws_send(data[off: off + step])
        if realtime:
            delay = t0 + (i + 1) * chunk_ms / 1000 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
