"""Semantic end of turn for one voice channel: is the learner done, or pausing to think?

The early transcript that speech recognition makes during the silence (server/api/early_asr.py)
is read by the textual end-of-turn judge, and the audio so far by the acoustic one when the
policy weighs it (server/speech/end_of_turn/); the policy weighs their P(complete) against how
long the silence has run: a finished question ends the turn at once, "I was wondering..." keeps
listening up to the longest pause allowed. Until every judge in use has answered, the policy
falls back to the plain silence rule, so a slow judge never makes the learner wait longer than
before. The acoustic judge starts at once on the audio, so it runs beside speech recognition
rather than after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import numpy as np

from ..speech.end_of_turn.judge import AcousticEndOfTurnModel, EndOfTurnModel
from ..speech.end_of_turn.policy import Decision, EndOfTurnPolicy

log = logging.getLogger(__name__)


class SemanticEndpointer:
    def __init__(self, policy: EndOfTurnPolicy, judge: EndOfTurnModel | None,
                 acoustic: AcousticEndOfTurnModel | None = None) -> None:
        self.policy = policy
        self.judge = judge
        # the acoustic judge is consulted only when the policy gives it weight
        self.acoustic = acoustic if acoustic is not None and policy.text_weight < 1 else None
        self._speech_end: float | None = None  # the speech end the readings below are for
        self._readings: dict[str, float] = {}  # judge ("text", "acoustic") -> P(complete)
        self._tasks: list[asyncio.Task] = []
        self._decision: Decision | None = None

    @property
    def active(self) -> bool:
        return self.policy.mode == "semantic" and self.judge is not None

    def silence_limit_ms(self, silence_ms: float) -> float:
        """The detector's own silence limit: the longest pause when the judge can end a turn
        sooner, else the plain silence rule."""
        return self.policy.max_silence_ms if self.active else silence_ms

    def read(self, speech_end_ms: float, transcript: asyncio.Task, on_ready: Callable[[], Awaitable[None]],
             audio: np.ndarray | None = None) -> None:
        """Judge the speech up to this speech end: its early transcript when ready, and its audio
        (when the acoustic judge is in use) at once."""
        self.drop()
        if self.active:
            self._speech_end = speech_end_ms
            self._tasks.append(asyncio.create_task(self._judge_text(speech_end_ms, transcript, on_ready)))
            if self.acoustic is not None and audio is not None:
                self._tasks.append(asyncio.create_task(self._judge_audio(speech_end_ms, audio, on_ready)))

    async def _judge_text(self, speech_end_ms: float, transcript: asyncio.Task, on_ready) -> None:
        try:
            text = (await asyncio.shield(transcript)).text
        except asyncio.CancelledError:
            return  # the early run was dropped (speech resumed): nothing to judge
        except Exception as exc:  # the turn's own transcription reports ASR failures
            log.debug("no early transcript to judge: %s", exc)
            return
        await self._record(speech_end_ms, "text", await asyncio.to_thread(self.judge.probability_complete, text), on_ready)

    async def _judge_audio(self, speech_end_ms: float, audio: np.ndarray, on_ready) -> None:
        try:
            p = await asyncio.to_thread(self.acoustic.probability_complete_audio, audio)
        except Exception as exc:  # a failing acoustic judge leaves the text judge alone, as with no acoustic judge
            log.warning("acoustic end-of-turn judge failed: %s", exc)
            self.acoustic = None
            return
        await self._record(speech_end_ms, "acoustic", p, on_ready)

    async def _record(self, speech_end_ms: float, judge: str, p: float, on_ready) -> None:
        if self._speech_end == speech_end_ms:
            self._readings[judge] = p
            await on_ready()

    def _probabilities(self, speech_end_ms: float) -> tuple[float | None, float | None]:
        """(text, acoustic) P(complete) for this speech end, once every judge in use has answered."""
        wanted = {"text"} | ({"acoustic"} if self.acoustic is not None else set())
        if self._speech_end != speech_end_ms or not wanted <= self._readings.keys():
            return None, None
        return self._readings["text"], self._readings.get("acoustic")

    def decide(self, silence_ms: float, speech_end_ms: float) -> Decision:
        """End now or keep listening, after this much silence since this speech end."""
        text_p, acoustic_p = self._probabilities(speech_end_ms)
        decision = self.policy.decide(silence_ms, text_p=text_p, acoustic_p=acoustic_p)
        if decision.end:
            self._decision = decision
        return decision

    def released(self) -> None:
        """The learner let go of push-to-talk: the turn ending now was ended by them."""
        self._decision = Decision(True, "push_to_talk_released")

    def take_decision(self) -> dict:
        """How the turn that just ended was ended, for the turn's log."""
        d, self._decision = self._decision, None
        readings, self._readings, self._speech_end = self._readings, {}, None
        detector = "semantic" if self.active else "silence"
        judged = {f"p_{k}": round(v, 3) for k, v in readings.items()}  # what each judge said, for the record
        if d is None:
            return {"detector": detector, "reason": "silence_limit", **judged}
        return {"detector": detector, "reason": d.reason,
                "p_complete": None if d.probability is None else round(d.probability, 3), **judged}

    def drop(self) -> None:
        """What was judged is stale (speech resumed, barge-in, the channel closed)."""
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        self._readings, self._speech_end = {}, None
