"""Model-free stand-ins for what a `VoiceChannel` (server/api/voice.py) is built from, so its
turn taking, barge-in and speculative ASR run on scripted timelines in no real time.

Each fake does one job: `VirtualClock` is time, `AmplitudeVAD` reads a scripted speech
probability out of the audio itself, `ScriptedTranscriber` and `SilentSynthesizer` stand in
for Whisper and TTS, `RecordingPort` is the conversation. `Timeline` pushes microphone
frames in at scripted times.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from server.speech.asr.base import Transcript
from server.speech.tts.base import BaseSynthesizer, SpeechAudio
from server.speech.vad import SAMPLE_RATE, WINDOW, float_to_pcm16

FRAME_MS = 20  # what a browser sends per binary frame


class VirtualClock:
    """Time that moves only when a test says so; sleepers wake as it passes their deadline."""

    def __init__(self, start_s: float = 1000.0) -> None:
        self.now_s = start_s
        self._sleepers: list[tuple[float, asyncio.Future]] = []

    def ms(self) -> float:
        return self.now_s * 1000

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now_s + seconds, wake))
        await wake

    def advance(self, seconds: float) -> None:
        self.now_s += seconds
        due = [(t, f) for t, f in self._sleepers if t <= self.now_s]
        self._sleepers = [(t, f) for t, f in self._sleepers if t > self.now_s]
        for _, wake in due:
            if not wake.done():
                wake.set_result(None)


class AmplitudeVAD:
    """A VAD whose speech probability for a 32 ms window is the window's peak amplitude, so a
    test writes "speech" as a constant 0.9 and "silence" as zeros."""

    window_ms = WINDOW * 1000 / SAMPLE_RATE

    def __init__(self) -> None:
        self._pending = np.zeros(0, np.float32)

    def process(self, audio: np.ndarray) -> list[tuple[float, np.ndarray]]:
        self._pending = np.concatenate([self._pending, audio.astype(np.float32)])
        out = []
        while len(self._pending) >= WINDOW:
            window, self._pending = self._pending[:WINDOW], self._pending[WINDOW:]
            out.append((float(np.abs(window).max()), window))
        return out


class ScriptedTranscriber:
    """Whisper's place: returns the scripted texts in call order (the last one repeats).

    `gate`, when given, holds every run in its worker thread until the test sets it, the way
    a slow Whisper run would; `max_in_flight` is the most runs that were ever in their threads
    at once (a thread cannot be stopped, so each one costs CPU until it ends)."""

    backend = "fake"

    def __init__(self, *texts: str, gate: threading.Event | None = None) -> None:
        self.texts = list(texts) or ["hello"]
        self.gate = gate
        self.heard_s: list[float] = []  # audio duration of each call, in call order
        self.clips: list[np.ndarray] = []  # the audio of each call, in call order
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()

    def transcribe(self, audio: np.ndarray, language: str | None = None) -> Transcript:
        with self._lock:
            n = len(self.heard_s)
            self.heard_s.append(len(audio) / SAMPLE_RATE)
            self.clips.append(audio)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                assert self.gate.wait(5), "the test never released the transcriber"
            text = self.texts[min(n, len(self.texts) - 1)]
            return Transcript(text=text, language="en", no_speech_prob=0.01, avg_logprob=-0.2,
                              duration_s=len(audio) / SAMPLE_RATE, backend=self.backend, model="scripted", elapsed_ms=1.0)
        finally:
            with self._lock:
                self.in_flight -= 1


class SilentSynthesizer(BaseSynthesizer):
    """TTS's place: `seconds` of silence per sentence, at 16 kHz; keeps the sentences it got."""

    name = "silent"
    _sample_rate = SAMPLE_RATE

    def __init__(self, seconds: float = 1.0) -> None:
        self.seconds = seconds
        self.spoken: list[str] = []

    def synthesize(self, text, voice, state=None) -> SpeechAudio:
        self.spoken.append(text)
        return SpeechAudio(bytes(2 * int(self.seconds * SAMPLE_RATE)), SAMPLE_RATE)


@dataclass
class Record:
    """The part of a committed turn (server/store/records.py's TurnRecord) the channel reads."""

    turn_index: int
    text: str
    interrupted: bool
    extra: dict
    reply: str
    state_after: object = None


@dataclass
class RecordingPort:
    """The conversation's place (a `VoicePort`): commits turns in order, replies with `reply`,
    and keeps every commit and annotation. One port is one session, whichever channel calls it."""

    reply: str = "It started this morning. It is a tight feeling. It will not go away."
    turns: list[Record] = field(default_factory=list)
    annotations: list[tuple[int, dict, bool | None]] = field(default_factory=list)

    async def commit_voice_turn(self, text: str, interrupted: bool, extra: dict):
        record = Record(len(self.turns) + 1, text, interrupted, extra, self.reply)
        self.turns.append(record)
        return record, []

    async def annotate_turn(self, turn_index: int, extra: dict, interrupted: bool | None = None) -> None:
        self.annotations.append((turn_index, extra, interrupted))

    def voice_and_state(self):
        return None, None, "en-GB"

    async def reply_sentences(self, record: Record):
        for sentence in record.reply.split(". "):
            yield sentence


@dataclass
class Timeline:
    """Plays a scripted microphone into a channel: `speak` and `pause` send 20 ms frames and
    move the virtual clock 20 ms after each; `wait` moves the clock with no frames (a stall)."""

    channel: object
    clock: VirtualClock

    async def speak(self, ms: float, level: float = 0.9) -> None:
        frame = float_to_pcm16(np.full(SAMPLE_RATE * FRAME_MS // 1000, level, np.float32))
        for _ in range(int(ms // FRAME_MS)):
            await self.channel.on_audio(frame)
            await self.wait(FRAME_MS)

    async def pause(self, ms: float) -> None:
        await self.speak(ms, level=0.0)

    async def wait(self, ms: float, step_ms: float = FRAME_MS) -> None:
        for _ in range(int(ms // step_ms)):
            self.clock.advance(step_ms / 1000)
            for _ in range(3):  # let what woke (a speaker, the stall watchdog) take its step
                await asyncio.sleep(0)


async def until(condition: Callable[[], bool], timeout_s: float = 2.0) -> None:
    """Wait (real time, briefly) for work in worker threads: fake ASR and TTS return at once,
    but their threads still have to be scheduled."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        assert loop.time() < deadline, "timed out waiting for the voice channel"
        await asyncio.sleep(0.001)
