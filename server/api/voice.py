"""The voice side of a session: learner audio in, patient audio out, barge-in.

Stages, each timed (`metrics.turn`): VAD endpointing -> ASR (a worker thread, started early
in the end-of-turn silence, one run at a time: early_asr.py) -> engine and commit (the text
path, shared with typed turns) -> sentence-by-sentence TTS streamed as binary frames. A
learner who talks over the patient for long enough cancels the rest of the reply
(`playback.clear`); a short backchannel does not.
"""

from __future__ import annotations

import asyncio
import logging
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..speech.asr.base import Transcriber, TranscriptionError
from ..speech.asr.hallucination import is_probably_hallucination
from ..speech.end_of_turn.judge import AcousticEndOfTurnModel, EndOfTurnModel
from ..speech.end_of_turn.policy import EndOfTurnPolicy
from ..speech.tts.base import Synthesizer
from ..speech.turns import Event, TurnConfig, TurnDetector
from ..speech.vad import SAMPLE_RATE, SileroVAD, pcm16_to_float
from ..store.audio import new_turn_wav
from ..timing import Clock, SystemClock
from . import protocol as P
from .early_asr import EarlyASR
from .endpointing import SemanticEndpointer
from .outbox import Outbox

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
SEND_CHUNK_BYTES = 8 * 1024
PLAYBACK_LEAD_S = 1.0  # audio is sent at most this far ahead of playback, so a barge-in stops the rest
STALL_TIMEOUT_S = 2.0  # a client that stops sending mid-turn: end the turn after this


class AudioError(Exception):
    def __init__(self, code: str, message: str):
        self.code, self.message = code, message
        super().__init__(message)


def check_frame(data: bytes) -> np.ndarray:
    """Validate one upstream binary frame and decode it (PCM16 LE mono, 16 kHz)."""
    if len(data) > MAX_FRAME_BYTES:
        raise AudioError("audio_frame_too_large", f"an audio frame of {len(data)} bytes is over the {MAX_FRAME_BYTES}-byte "
                         "limit; send 20-40 ms chunks (640-1280 bytes of 16 kHz PCM16)")
    if len(data) % 2:
        raise AudioError("bad_audio", f"an audio frame of {len(data)} bytes has an odd byte count; audio is 16-bit PCM, "
                         "so every frame holds a whole number of 2-byte samples")
    return pcm16_to_float(data)


@dataclass
class ReplyPlayback:
    """The patient reply being spoken, so a barge-in can stop it."""

    turn_id: int
    clock: Clock
    cancelled: bool = False
    audio_s: float = 0.0              # seconds of audio sent so far
    first_sentence_at: float | None = None  # clock ms when the first sentence was ready to synthesise
    first_audio_at: float | None = None     # clock ms when the first audio byte left (playback starts)
    sample_rate: int | None = None

    def ahead_s(self) -> float:
        """How much of the audio sent so far the learner has still to hear."""
        if self.first_audio_at is None:
            return 0.0
        return self.first_audio_at / 1000 + self.audio_s - self.clock.ms() / 1000

    def speaking(self) -> bool:
        """The learner hears the patient until the audio sent so far has played out."""
        return not self.cancelled and self.ahead_s() > 0


class SpeechProbability(Protocol):
    """What the channel needs from a VAD (server/speech/vad.py's SileroVAD): a speech
    probability per fixed window of the stream."""

    window_ms: float

    def process(self, audio: np.ndarray) -> list[tuple[float, np.ndarray]]: ...


class VoicePort(Protocol):
    """What the voice channel needs from its conversation (server/api/conversation.py); its
    events go out through the same `Outbox` as a typed turn's."""

    async def commit_voice_turn(self, text: str, interrupted: bool, extra: dict) -> tuple[Any, list]:
        """Run and commit one transcribed turn; returns (record, events to send)."""

    async def annotate_turn(self, turn_index: int, extra: dict, interrupted: bool | None = None) -> None: ...

    def voice_and_state(self) -> tuple[Any, Any, str]:
        """(Voice, EmotionalState, language) of the session now."""

    def reply_sentences(self, record) -> AsyncIterator[str]:
        """The sentences to speak for a committed turn (streamed from a model realiser, or the stored reply split)."""


@dataclass
class VoiceChannel:
    port: VoicePort
    outbox: Outbox
    transcriber: Transcriber
    synthesizer: Synthesizer
    config: TurnConfig = field(default_factory=TurnConfig)
    audio_dir: Path | None = None
    no_speech_threshold: float = 0.6
    vad: SpeechProbability = field(default_factory=SileroVAD)  # tests pass a scripted one
    clock: Clock = field(default_factory=SystemClock)  # tests pass a virtual one
    end_of_turn: EndOfTurnPolicy = field(default_factory=lambda: EndOfTurnPolicy(mode="silence"))
    judge: EndOfTurnModel | None = None  # with a semantic policy, reads the early transcript
    acoustic: AcousticEndOfTurnModel | None = None  # and this the audio, when the policy weighs it

    def __post_init__(self) -> None:
        self.endpointer = SemanticEndpointer(self.end_of_turn, self.judge, self.acoustic)
        # with a judge, the detector's silence is only the longest pause; the judge ends turns sooner
        limit = self.endpointer.silence_limit_ms(self.config.silence_ms)
        self.detector = TurnDetector(replace(self.config, silence_ms=limit), window_ms=self.vad.window_ms)
        self.playback: ReplyPlayback | None = None
        self.interrupt_next = False
        self.interruptions = 0
        self._last_frame: float | None = None  # clock ms of the last audio frame
        self._turn_task: asyncio.Task | None = None
        self._watchdog = asyncio.create_task(self._watch_stalls())
        self._speech_ms = 0.0
        self.asr = EarlyASR(self.transcriber)
        self._pause_told = False  # the client was told the learner is pausing (vad.pause)

    # -- input -------------------------------------------------------------------------
    async def on_audio(self, data: bytes) -> None:
        samples = check_frame(data)
        self._last_frame = t = self.clock.ms()
        for prob, window in self.vad.process(samples):
            if prob >= self.config.end_threshold:
                self._speech_ms += self.vad.window_ms
            for event in self.detector.feed(prob, window, t, self._patient_speaking()):
                await self.on_event(event)
            await self._end_if_done(t)

    async def commit_turn(self) -> None:
        """The learner released push-to-talk: the turn they were speaking is over now, whatever
        the pause would otherwise have been taken for. Nothing happens outside a turn."""
        if self.detector.in_speech:
            self.endpointer.released()
        for event in self.detector.end_now(self.clock.ms()):
            await self.on_event(event)

    async def _end_if_done(self, now: float) -> None:
        """With a semantic policy: end the turn once the judge and the silence so far say the
        learner has finished, before the detector's longest pause."""
        silence = self.detector.silence_run_ms
        if not self.endpointer.active or silence <= 0:
            return
        decision = self.endpointer.decide(silence, self.detector.last_voiced_ms)
        if decision.end:
            for event in self.detector.end_now(now):
                await self.on_event(event)
        elif not self._pause_told and silence >= self.end_of_turn.silence_ms:
            # past where the silence rule would have ended the turn: show "listening", not "thinking"
            self._pause_told = True
            await self.outbox.send(P.VadPause(waiting=True))

    def busy_reason(self) -> str | None:
        """Why a turn cannot be taken back now ("Try that again"), or None: not while the learner
        is mid-turn or the patient is still answering (transcribing, replying, speaking)."""
        if self.detector.in_speech:
            return "you are still speaking; finish the turn (or let it be answered) before taking one back"
        if (self._turn_task is not None and not self._turn_task.done()) or self._patient_speaking():
            return "the patient is still answering; wait until they have finished, then try again"
        return None

    def _patient_speaking(self) -> bool:
        return self.playback is not None and self.playback.speaking()

    async def on_event(self, e: Event) -> None:
        """One turn-taking event: the detector's, or one a test scripts."""
        if e.kind == "speech_started":
            self._speech_ms = 0.0
            await self.outbox.send(P.VadSpeechStarted(during_patient=e.during_patient))
        elif e.kind == "speech_stopped":
            self._pause_told = False
            await self.outbox.send(P.VadSpeechStopped())
        elif e.kind == "barge_in":
            await self._barge_in()
        elif e.kind == "tentative":
            # start ASR during the endpointing wait; used only if no more speech follows
            self.asr.start(e.speech_end_ms, e.audio, self.port.voice_and_state()[2])
            if (early := self.asr.pending(e.speech_end_ms)) is not None:
                self.endpointer.read(e.speech_end_ms, early, lambda: self._end_if_done(self.clock.ms()), e.audio)
        elif e.kind == "resumed":
            self.asr.drop()
            self.endpointer.drop()
            if self._pause_told:
                self._pause_told = False
                await self.outbox.send(P.VadPause(waiting=False))
        elif e.kind == "backchannel":
            self.endpointer.take_decision()  # no turn: how it ended is nobody's record
            log.debug("backchannel of %.0f ms ignored", len(e.audio) / SAMPLE_RATE * 1000)
        elif e.kind == "turn":
            if e.reason == "too_long":
                await self.outbox.send(P.ErrorMessage(code="turn_too_long", message=
                                            f"you spoke for over {self.config.max_turn_ms / 1000:.0f} s without a pause; the turn "
                                            "was cut there and sent to the patient. Pause now and then to let them answer"))
            elif e.reason == "stalled":
                await self.outbox.send(P.ErrorMessage(code="audio_timeout", message=
                                            f"no audio arrived for {STALL_TIMEOUT_S:.0f} s in the middle of your turn; the turn "
                                            "was ended with what arrived. Check the microphone connection"))
            previous = self._turn_task
            # of the audio from the onset: the pre-roll is there for Whisper, not a sign of noise
            speech_ratio = min(1.0, self._speech_ms / max(1.0, (len(e.audio) - e.onset) / SAMPLE_RATE * 1000))
            early = self.asr.take(e.speech_end_ms)
            ended = self.endpointer.take_decision()
            self._turn_task = asyncio.create_task(self._run_turn(e, previous, speech_ratio, early, ended))

    async def _barge_in(self) -> None:
        self.asr.drop()
        self.endpointer.drop()
        pb = self.playback
        if pb is None or pb.cancelled:
            return
        pb.cancelled = True
        self.interruptions += 1
        self.interrupt_next = True
        await self.outbox.send(P.PlaybackClear(turn_id=pb.turn_id))
        await self.port.annotate_turn(pb.turn_id, {"patient_interrupted": True}, interrupted=True)

    async def _watch_stalls(self) -> None:
        while True:
            await self.clock.sleep(0.25)
            now = self.clock.ms()
            if self.detector.in_speech and self._last_frame is not None and now - self._last_frame > STALL_TIMEOUT_S * 1000:
                for event in self.detector.timeout(now):
                    await self.on_event(event)

    async def close(self) -> None:
        self._watchdog.cancel()
        self.asr.drop()
        self.endpointer.drop()
        if self.playback:
            self.playback.cancelled = True
        if self._turn_task:
            self._turn_task.cancel()

    # -- one turn ----------------------------------------------------------------------
    async def _run_turn(self, e: Event, previous: asyncio.Task | None, speech_ratio: float,
                        early: asyncio.Task | None = None, ended: dict | None = None) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])  # turns are answered in order
        try:
            await self._answer(e, speech_ratio, early, ended)
        except asyncio.CancelledError:
            raise
        except TranscriptionError as exc:
            await self._tell(P.ErrorMessage(code="asr_failed", message=f"speech recognition failed: {exc}; "
                                            "say it again, or type it in the text box"))
        except Exception as exc:
            if isinstance(exc, P.ProtocolError):
                await self._tell(exc.event())
                return
            log.exception("voice turn failed")
            await self._tell(P.ErrorMessage(code="internal_error",
                                            message="the server failed on this turn and logged why; say it again"))

    async def _tell(self, event) -> None:
        try:
            await self.outbox.send(event)
        except Exception:  # the socket may be gone already
            log.debug("could not send %r", event)

    async def _answer(self, e: Event, speech_ratio: float, early: asyncio.Task | None = None,
                      ended: dict | None = None) -> None:
        t_detect = self.clock.ms()
        speech_end = e.speech_end_ms or t_detect
        audio = e.audio if e.audio is not None else np.zeros(0, np.float32)
        voice, state, language = self.port.voice_and_state()
        if early is not None:
            transcript = await early  # started during the endpointing wait on the same speech
        else:
            transcript = await self.asr.transcribe(audio, language)
        t_asr = self.clock.ms()
        if is_probably_hallucination(transcript, speech_ratio, no_speech_threshold=self.no_speech_threshold):
            log.info("discarded non-speech turn: %r (no_speech %.2f)", transcript.text, transcript.no_speech_prob or -1)
            await self.outbox.send(P.VadDiscarded(reason="no speech recognised"))
            return
        text = transcript.text.strip()
        interrupted, self.interrupt_next = self.interrupt_next, False
        extra = {
            "voice": {
                "audio_duration_s": round(len(audio) / SAMPLE_RATE, 3),
                "asr_backend": transcript.backend, "asr_model": transcript.model,
                "no_speech_prob": transcript.no_speech_prob, "avg_logprob": transcript.avg_logprob,
                "cut": e.cut, "speculative_asr": early is not None,
                "end_of_turn": ended or {"detector": "silence", "reason": "silence_limit"},
            },
        }
        if self.audio_dir is not None:
            extra["voice"]["audio_file"] = str(self._save_audio(audio))
        record, events = await self.port.commit_voice_turn(text, interrupted, extra)
        t_reply = self.clock.ms()
        turn_id = record.turn_index
        await self.outbox.send(P.LearnerTranscript(text=text, turn_id=turn_id))
        for ev in events:
            await self.outbox.send(ev)
        sentences = self.port.reply_sentences(record)
        first_audio, first_sentence = await self._speak(turn_id, sentences, voice, record.state_after)
        stages = {
            "speech_end_to_endpoint_ms": round(t_detect - speech_end, 1),
            "asr_ms": round(transcript.elapsed_ms, 1),
            "asr_wait_after_endpoint_ms": round(t_asr - t_detect, 1),
            "engine_commit_ms": round(t_reply - t_asr, 1),
            "first_sentence_ms": round(first_sentence - t_reply, 1) if first_sentence else None,
            "tts_first_audio_ms": round(first_audio - first_sentence, 1) if first_audio and first_sentence else None,
            "voice_to_voice_ms": round(first_audio - speech_end, 1) if first_audio else None,
        }
        timeline = {"speech_end": 0.0, "transcript_ready": round(t_asr - speech_end, 1),
                    "reply_text_ready": round(t_reply - speech_end, 1),
                    "first_audio_sent": round(first_audio - speech_end, 1) if first_audio else None}
        await self.port.annotate_turn(turn_id, {"voice_timings_ms": timeline, "stages_ms": stages})
        await self.outbox.send(P.MetricsTurn(turn_id=turn_id, stages_ms=stages, asr_backend=transcript.backend,
                                                 audio_duration_s=extra["voice"]["audio_duration_s"],
                                                 no_speech_prob=transcript.no_speech_prob))

    async def _speak(self, turn_id: int, sentences: AsyncIterator[str], voice, state) -> tuple[float | None, float | None]:
        """Synthesise sentence by sentence as they arrive and stream the audio. Returns (first
        audio byte sent, first sentence ready), in clock ms."""
        pb = ReplyPlayback(turn_id, self.clock)
        self.playback = pb
        try:
            await self._speak_sentences(pb, sentences, voice, state, turn_id)
        finally:
            await sentences.aclose()  # a cancelled stream stops generating and records what was said
        if pb.sample_rate is not None:
            await self.outbox.send(P.PatientAudioEnd(turn_id=turn_id, interrupted=pb.cancelled))
        return pb.first_audio_at, pb.first_sentence_at

    async def _speak_sentences(self, pb: "ReplyPlayback", sentences: AsyncIterator[str], voice, state, turn_id: int) -> None:
        rate = None
        async for sentence in sentences:
            if pb.first_sentence_at is None:
                pb.first_sentence_at = self.clock.ms()
            if pb.cancelled:
                break
            audio = await asyncio.to_thread(self.synthesizer.synthesize, sentence, voice, state)
            if pb.cancelled:
                break
            if not audio:
                continue
            if rate is None:
                rate = pb.sample_rate = audio.sample_rate
                await self.outbox.send(P.PatientAudioStart(sample_rate=rate, turn_id=turn_id))
            bytes_per_s = 2 * audio.sample_rate
            for i in range(0, len(audio.pcm16), SEND_CHUNK_BYTES):
                if pb.cancelled:
                    break
                chunk = audio.pcm16[i:i + SEND_CHUNK_BYTES]
                await self.outbox.send_audio(chunk)
                if pb.first_audio_at is None:
                    pb.first_audio_at = self.clock.ms()
                pb.audio_s += len(chunk) / bytes_per_s
                ahead = pb.ahead_s()
                if ahead > PLAYBACK_LEAD_S:
                    await self.clock.sleep(ahead - PLAYBACK_LEAD_S)
            if pb.cancelled:
                break

    def _save_audio(self, audio: np.ndarray) -> Path:
        """A learner's voice is personal data: the file is mode 600 in folders of mode 700, and
        always a new file (a resumed session never overwrites an earlier turn's recording)."""
        path, fh = new_turn_wav(self.audio_dir)
        with fh, wave.open(fh, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
        return path
