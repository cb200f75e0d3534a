"""Semantic end of turn for one voice channel: is the learner done, or pausing to think?

The early transcript that speech recognition makes during the silence (server/api/early_asr.py)
is read by an end-of-turn judge (server/speech/end_of_turn/), and the policy weighs its
P(complete) against how long the silence has run: a finished question ends the turn at once,
"I was wondering..." keeps listening up to the longest pause allowed. Until the judge has
answered, the policy falls back to the plain silence rule, so a slow judge never makes the
learner wait longer than before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from ..speech.end_of_turn.judge import EndOfTurnModel
from ..speech.end_of_turn.policy import Decision, EndOfTurnPolicy

log = logging.getLogger(__name__)


class SemanticEndpointer:
    def __init__(self, policy: EndOfTurnPolicy, judge: EndOfTurnModel | None) -> None:
        self.policy = policy
        self.judge = judge
        self._reading: tuple[float, float] | None = None  # (speech end ms, P(complete))
        self._task: asyncio.Task | None = None
        self._decision: Decision | None = None

    @property
    def active(self) -> bool:
        return self.policy.mode == "semantic" and self.judge is not None

    def silence_limit_ms(self, silence_ms: float) -> float:
        """The detector's own silence limit: the longest pause when the judge can end a turn
        sooner, else the plain silence rule."""
        return self.policy.max_silence_ms if self.active else silence_ms

    def read(self, speech_end_ms: float, transcript: asyncio.Task, on_ready: Callable[[], Awaitable[None]]) -> None:
        """Judge the early transcript of the speech up to this speech end when it is ready."""
        self.drop()
        if self.active:
            self._task = asyncio.create_task(self._judge(speech_end_ms, transcript, on_ready))

    async def _judge(self, speech_end_ms: float, transcript: asyncio.Task, on_ready) -> None:
        try:
            text = (await asyncio.shield(transcript)).text
        except asyncio.CancelledError:
            return  # the early run was dropped (speech resumed): nothing to judge
        except Exception as exc:  # the turn's own transcription reports ASR failures
            log.debug("no early transcript to judge: %s", exc)
            return
        p = await asyncio.to_thread(self.judge.probability_complete, text)
        self._reading = (speech_end_ms, p)
        await on_ready()

    def decide(self, silence_ms: float, speech_end_ms: float) -> Decision:
        """End now or keep listening, after this much silence since this speech end."""
        p = self._reading[1] if self._reading is not None and self._reading[0] == speech_end_ms else None
        decision = self.policy.decide(silence_ms, text_p=p)
        if decision.end:
            self._decision = decision
        return decision

    def released(self) -> None:
        """The learner let go of push-to-talk: the turn ending now was ended by them."""
        self._decision = Decision(True, "push_to_talk_released")

    def take_decision(self) -> dict:
        """How the turn that just ended was ended, for the turn's log."""
        d, self._decision = self._decision, None
        self._reading = None
        detector = "semantic" if self.active else "silence"
        if d is None:
            return {"detector": detector, "reason": "silence_limit"}
        return {"detector": detector, "reason": d.reason,
                "p_complete": None if d.probability is None else round(d.probability, 3)}

    def drop(self) -> None:
        """What was judged is stale (speech resumed, barge-in, the channel closed)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._reading = None
