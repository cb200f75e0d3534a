"""A scripted learner: picks the next line from its style's pools with a seeded RNG."""

from __future__ import annotations

import random

from server.core.emotions import ADJECTIVE

from .scripts import SCRIPTS, StyleScript

MIXED_EMPATHY = 0.5
"""Chance that a `mixed` learner answers a given cue (or asks a question) the empathic way."""


class ScriptedLearner:
    def __init__(self, style: str, rng: random.Random, turns: int):
        self.style, self.rng, self.turns = style, rng, turns
        self._queues: dict[str, list[str]] = {}

    def _script(self) -> StyleScript:
        if self.style == "mixed":
            return SCRIPTS["empathic" if self.rng.random() < MIXED_EMPATHY else "dismissive"]
        return SCRIPTS[self.style]

    def _next_question(self, script: StyleScript) -> str:
        queue = self._queues.get(script.name)
        if not queue:  # each pass through the pool is a fresh shuffle
            queue = self._queues[script.name] = self.rng.sample(script.questions, len(script.questions))
        return queue.pop()

    def line(self, turn: int, cue_emotion: str | None) -> str:
        """Learner words for `turn` (1-based); `cue_emotion` is set when the patient's last
        words held an empathic opportunity, with its emotion family."""
        script = self._script()
        if turn == self.turns:
            return self.rng.choice(script.closings)
        if cue_emotion is not None:
            reply = self._cue_reply(script, cue_emotion)
            return f"{self.rng.choice(script.introductions)} {reply}" if turn == 1 else reply
        if turn == 1:
            return self.rng.choice(script.greetings)
        return self._next_question(script)

    def _cue_reply(self, script: StyleScript, emotion: str) -> str:
        feeling = ADJECTIVE.get(emotion)
        pool = [c for c in script.cue_replies if feeling or "{feeling}" not in c]
        return self.rng.choice(pool).format(feeling=feeling or "")
