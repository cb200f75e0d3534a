"""The end-of-turn rule: silence so far plus the judges' probabilities -> end now or keep listening.

Pure (no clock, no model): the voice channel asks again as the silence grows or a new
transcript arrives. The rule, in order:

1. silence >= `max_silence_ms` (2000): end, whatever the judges say (a learner is never left
   hanging);
2. silence < `min_silence_ms` (160, about when the speculative transcript exists): keep listening;
3. silence-only mode, or no probability at all (no judge, or none has answered yet): end once
   silence >= `silence_ms` (500, today's rule);
4. otherwise P(complete) is the weighted mean of the probabilities given (`text_weight` for the
   text, 1 - `text_weight` for the acoustic one; a missing one drops out), compared with a
   threshold that falls linearly from `threshold` at `min_silence_ms` to `threshold_at_max`
   at `max_silence_ms`: the longer the pause, the less certainty ending it needs.

The defaults were chosen on the dev half of the turn-taking set, in espeak-ng and in a natural
voice (`eval/turn_taking/choose_rule.py`, docs/end-of-turn.md): the text judge alone at a flat
0.6. Giving the acoustic judge (smart-turn) weight helped a little in the natural voice and
hurt in espeak-ng; a threshold that falls with the silence ended more pauses than it saved
waits. Every one stays a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Decision:
    end: bool
    reason: str  # max_silence | too_short | silence | complete | incomplete
    probability: float | None = None  # the combined P(complete), when one was used
    threshold: float | None = None


@dataclass(frozen=True)
class EndOfTurnPolicy:
    mode: Literal["semantic", "silence"] = "semantic"
    min_silence_ms: float = 160
    silence_ms: float = 500
    max_silence_ms: float = 2000
    threshold: float = 0.6
    threshold_at_max: float = 0.6
    text_weight: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.min_silence_ms <= self.max_silence_ms:
            raise ValueError("need 0 <= min_silence_ms <= max_silence_ms")
        if not 0 <= self.text_weight <= 1:
            raise ValueError("text_weight is a share in [0, 1]")
        if self.mode not in ("semantic", "silence"):
            raise ValueError(f"unknown end-of-turn mode {self.mode!r}")

    def threshold_after(self, silence_ms: float) -> float:
        span = self.max_silence_ms - self.min_silence_ms
        f = 1.0 if span <= 0 else min(1.0, max(0.0, (silence_ms - self.min_silence_ms) / span))
        return self.threshold + f * (self.threshold_at_max - self.threshold)

    def combine(self, text_p: float | None, acoustic_p: float | None) -> float | None:
        parts = [(p, w) for p, w in ((text_p, self.text_weight), (acoustic_p, 1 - self.text_weight)) if p is not None]
        total = sum(w for _, w in parts)
        if not parts:
            return None
        if total == 0:  # the only probability given has weight 0: use it alone rather than nothing
            return sum(p for p, _ in parts) / len(parts)
        return sum(p * w for p, w in parts) / total

    def decide(self, silence_ms: float, text_p: float | None = None, acoustic_p: float | None = None) -> Decision:
        if silence_ms >= self.max_silence_ms:
            return Decision(True, "max_silence")
        if silence_ms < self.min_silence_ms:
            return Decision(False, "too_short")
        p = None if self.mode == "silence" else self.combine(text_p, acoustic_p)
        if p is None:
            return Decision(silence_ms >= self.silence_ms, "silence")
        t = self.threshold_after(silence_ms)
        return Decision(p >= t, "complete" if p >= t else "incomplete", p, t)
