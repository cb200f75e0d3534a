"""How long a learner waits before each turn.

`realistic`: a think time drawn uniformly from a range (a learner reads or hears the reply,
then thinks), seeded per session so runs repeat; in voice mode the learner also lets the
patient finish speaking. `none`: stress mode, each turn as soon as the last one is answered.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

PACINGS = ("realistic", "none")


@dataclass(frozen=True)
class ThinkTime:
    low_s: float
    high_s: float

    @classmethod
    def parse(cls, text: str) -> "ThinkTime":
        """'4-10' (uniform between 4 and 10 seconds) or '6' (always 6)."""
        low, sep, high = str(text).strip().partition("-")
        try:
            lo = float(low)
            hi = float(high) if sep else lo
        except ValueError:
            raise ValueError(f"--think-s {text!r} is not a range of seconds; write it as LOW-HIGH, e.g. 4-10, "
                             "or as one number, e.g. 6") from None
        if lo < 0 or hi < lo:
            raise ValueError(f"--think-s {text!r}: the range must run from a low to a higher number of seconds, "
                             "both 0 or more, e.g. 4-10")
        return cls(lo, hi)

    def label(self) -> str:
        return f"{self.low_s:g}-{self.high_s:g} s"


@dataclass(frozen=True)
class Pacing:
    mode: str
    think: ThinkTime

    def __post_init__(self) -> None:
        if self.mode not in PACINGS:
            raise ValueError(f"--pacing {self.mode!r}: choose one of {', '.join(PACINGS)}")

    @property
    def realistic(self) -> bool:
        return self.mode == "realistic"

    def think_s(self, rng: random.Random) -> float:
        """The next think time (0 in stress mode)."""
        if not self.realistic:
            return 0.0
        return rng.uniform(self.think.low_s, self.think.high_s)


def session_rng(seed: int, session_no: int) -> random.Random:
    """One generator per session, so a session's lines and think times do not depend on how
    the others were scheduled."""
    return random.Random(f"bedside-loadtest:{seed}:{session_no}")
