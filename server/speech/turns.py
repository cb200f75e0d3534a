"""Turn taking: from per-window speech probabilities to learner turns and barge-ins.

A pure state machine over a clock the caller supplies, so tests drive it with scripted
timelines (no real time, no audio). The voice session wires it to the VAD and the socket.

- A turn starts after `start_ms` of speech (probability >= `start_threshold`). Its audio
  starts `pre_roll_ms` before the first of those windows: the VAD's probability rises only
  after a soft onset ("h", "f"), and Whisper mishears a clip cut at the first phoneme
  (docs/voice-asr.md). `onset` on the turn says where the speech run begins in its audio.
- It ends after `silence_ms` (default 500) of non-speech (probability < `end_threshold`).
- After `speculate_ms` of that silence a `tentative` event carries the audio so far, so
  speech recognition can start before the turn is confirmed; if speech resumes, a
  `resumed` event says the tentative work is stale, and the final `turn` has a later
  `speech_end_ms`.
- A turn longer than `max_turn_ms` (60 s) is cut and reported as `cut=True`.
- `end_now` ends the turn early when a semantic end-of-turn judge says the learner has
  finished (server/api/endpointing.py); `silence_ms` is then the longest pause allowed.
- While the patient is speaking, learner speech becomes a barge-in only after
  `barge_in_ms` of continuous speech; shorter bursts ("mm", "okay") are backchannels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class TurnConfig:
    start_threshold: float = 0.5
    end_threshold: float = 0.35
    start_ms: float = 96
    silence_ms: float = 500
    speculate_ms: float = 160
    min_turn_ms: float = 250
    barge_in_ms: float = 600
    max_turn_ms: float = 60_000
    pre_roll_ms: float = 300  # audio kept before the speech onset


@dataclass
class Event:
    kind: str  # speech_started | tentative | resumed | speech_stopped | barge_in | backchannel | turn
    at_ms: float
    audio: np.ndarray | None = None
    speech_end_ms: float | None = None
    cut: bool = False
    reason: str | None = None  # why a turn was cut: "too_long" or "stalled"
    during_patient: bool = False
    onset: int = 0  # samples of pre-roll before the speech run, at the start of `audio`


@dataclass
class TurnDetector:
    config: TurnConfig = field(default_factory=TurnConfig)
    window_ms: float = 32.0
    sample_rate: int = 16000

    def __post_init__(self) -> None:
        self.in_speech = False
        self._speech_run = 0.0
        self._silence_run = 0.0
        self._turn_ms = 0.0
        self._last_voiced_ms = 0.0
        self._buffer: list[np.ndarray] = []
        self._preroll: list[np.ndarray] = []
        self._onset = 0
        self._started_during_patient = False
        self._barged = False
        self._speculated = False

    def feed(self, prob: float, samples: np.ndarray, now_ms: float, patient_speaking: bool) -> list[Event]:
        """One VAD window: its probability, its samples, and when it arrived."""
        c = self.config
        events: list[Event] = []
        voiced = prob >= (c.end_threshold if self.in_speech else c.start_threshold)
        if not self.in_speech:
            self._speech_run = self._speech_run + self.window_ms if voiced else 0.0
            run = round(self._speech_run / self.window_ms)  # windows of the speech run so far
            keep = run + math.ceil(c.pre_roll_ms / self.window_ms)  # and pre_roll_ms before it
            self._preroll.append(samples)
            self._preroll = self._preroll[max(0, len(self._preroll) - keep):]
            if self._speech_run >= c.start_ms:
                self.in_speech = True
                self._buffer = list(self._preroll)
                self._onset = sum(len(w) for w in self._preroll[:len(self._preroll) - run])
                self._preroll = []
                self._turn_ms = self._speech_run
                self._silence_run = 0.0
                self._last_voiced_ms = now_ms
                self._started_during_patient = patient_speaking
                self._barged = False
                events.append(Event("speech_started", now_ms, during_patient=patient_speaking))
            return events

        self._buffer.append(samples)
        self._turn_ms += self.window_ms
        if voiced:
            self._silence_run = 0.0
            self._last_voiced_ms = now_ms
            if self._speculated:
                events.append(Event("resumed", now_ms))
            self._speculated = False
        else:
            self._silence_run += self.window_ms
        voiced_ms = self._turn_ms - self._silence_run
        answering = not self._started_during_patient or self._barged
        if (not self._speculated and answering and c.speculate_ms <= self._silence_run < c.silence_ms
                and voiced_ms >= c.min_turn_ms):
            self._speculated = True
            events.append(Event("tentative", now_ms, audio=np.concatenate(self._buffer), speech_end_ms=self._last_voiced_ms))
        if self._started_during_patient and not self._barged and patient_speaking and voiced_ms >= c.barge_in_ms:
            self._barged = True
            events.append(Event("barge_in", now_ms, during_patient=True))
        if self._silence_run >= c.silence_ms:
            events.extend(self._finish(now_ms))
        elif self._turn_ms >= c.max_turn_ms:
            events.extend(self._finish(now_ms, reason="too_long"))
        return events

    @property
    def silence_run_ms(self) -> float:
        """How long the learner has been silent inside the current turn."""
        return self._silence_run if self.in_speech else 0.0

    @property
    def last_voiced_ms(self) -> float:
        return self._last_voiced_ms

    def end_now(self, now_ms: float) -> list[Event]:
        """A semantic end of turn: the judge says the learner has finished, before the silence
        limit; the turn ends as if the silence had run out."""
        return self._finish(now_ms) if self.in_speech else []

    def timeout(self, now_ms: float) -> list[Event]:
        """The client stopped sending mid-turn: end the turn with what arrived."""
        return self._finish(now_ms, reason="stalled") if self.in_speech else []

    def _finish(self, now_ms: float, reason: str | None = None) -> list[Event]:
        cut = reason is not None
        audio = np.concatenate(self._buffer) if self._buffer else np.zeros(0, dtype=np.float32)
        voiced_ms = self._turn_ms - self._silence_run
        # speech that began over the patient and stayed short is a backchannel; if it
        # outlasted the patient's reply it is an ordinary turn
        during = self._started_during_patient and not self._barged and voiced_ms < self.config.barge_in_ms
        self.in_speech = False
        self._speculated = False
        self._buffer, self._speech_run, self._silence_run, self._turn_ms = [], 0.0, 0.0, 0.0
        out = [Event("speech_stopped", now_ms, speech_end_ms=self._last_voiced_ms)]
        if during:
            out.append(Event("backchannel", now_ms, audio=audio, speech_end_ms=self._last_voiced_ms, during_patient=True))
        elif voiced_ms >= self.config.min_turn_ms or cut:
            out.append(Event("turn", now_ms, audio=audio, speech_end_ms=self._last_voiced_ms, cut=cut, reason=reason,
                             onset=self._onset))
        return out
