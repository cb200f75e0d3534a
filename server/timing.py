"""One clock for every latency the server reports (engine stages, the store commit, voice).

Milliseconds on the monotonic performance counter: only differences between two readings mean
anything. `Laps` times the stages of one turn, each from the end of the one before.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


def now_ms() -> float:
    return time.perf_counter() * 1000.0


class Clock(Protocol):
    """Time as the voice channel sees it: readings and waits. Tests pass a virtual clock so a
    scripted timeline runs in no real time."""

    def ms(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: `now_ms` and asyncio's sleep."""

    def ms(self) -> float:
        return now_ms()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Laps:
    """Milliseconds per named stage, in order; `total` is from the start to the last lap."""

    def __init__(self) -> None:
        self.started = self._last = now_ms()
        self.ms: dict[str, float] = {}

    def lap(self, stage: str) -> float:
        t = now_ms()
        self.ms[stage] = round(t - self._last, 3)
        self._last = t
        return self.ms[stage]

    def total(self) -> float:
        return round(self._last - self.started, 3)
