"""Per-connection and per-client limits: one socket or one address must not take the server.

An outside load test queued 1,000 turns on one anonymous socket, uploaded 540 s of audio in
0.4 s from three clients (about 35 s of forced ASR work), and kept sockets and sessions open
without end. Each limit here is a small counter with one job; the websocket and the
conversation consult them and turn a breach into a clear `error` event (settings: `Limits`).
Turns of one session are already serialised (one in flight: `LiveSessions.lock`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .protocol import ProtocolError

PCM_BYTES_PER_SECOND = 16_000 * 2  # upstream audio: PCM16 mono, 16 kHz


@dataclass
class TurnRate:
    """At most `per_minute` turns in any 60 s on one connection (0: no limit)."""

    per_minute: int
    clock: Callable[[], float] = time.monotonic
    _times: deque = field(default_factory=deque)

    def check(self) -> None:
        if not self.per_minute:
            return
        now = self.clock()
        while self._times and now - self._times[0] >= 60.0:
            self._times.popleft()
        if len(self._times) >= self.per_minute:
            wait = 60.0 - (now - self._times[0])
            raise ProtocolError("busy", f"more than {self.per_minute} turns in a minute on this connection; wait "
                                f"{wait:.0f} s and send the turn again (server setting max_turns_per_minute)")
        self._times.append(now)


@dataclass
class AudioPace:
    """Learner audio may arrive at most `ratio` times faster than real time, after a short
    `burst_s` allowance (a client catching up after a network stall); 0: no limit."""

    ratio: float
    burst_s: float = 3.0
    clock: Callable[[], float] = time.monotonic
    _start: float | None = None
    _seconds: float = 0.0

    def check(self, nbytes: int) -> None:
        if not self.ratio:
            return
        now = self.clock()
        if self._start is None:
            self._start = now
        seconds = nbytes / PCM_BYTES_PER_SECOND
        allowed = self.ratio * (now - self._start) + self.burst_s
        if self._seconds + seconds > allowed:
            raise ProtocolError("audio_too_fast", f"audio is arriving faster than {self.ratio:g}x real time; stream the "
                                "microphone as it records (20-40 ms frames), not a file at once. This frame was dropped "
                                "(server setting audio_max_speed)")
        self._seconds += seconds


class ClientSessions:
    """Sessions open at once per client address (a classroom behind one NAT shares an
    address, so the default is generous); 0: no limit."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._open: dict[str, set[object]] = {}

    def enter(self, client: str, owner: object) -> None:
        held = self._open.setdefault(client, set())
        if owner in held:
            return
        if self.cap and len(held) >= self.cap:
            raise ProtocolError("too_many_sessions", f"{len(held)} sessions are already open from this address (limit "
                                f"{self.cap}); end one with session.end or close its tab first (server setting "
                                "max_sessions_per_client)")
        held.add(owner)

    def leave(self, client: str, owner: object) -> None:
        held = self._open.get(client)
        if held is not None:
            held.discard(owner)
            if not held:
                del self._open[client]

    def count(self, client: str) -> int:
        return len(self._open.get(client, ()))


class AddressRate:
    """At most `per_hour` events per client address in any hour (0: no limit); `wait` says how
    long until the next is allowed, so HTTP and websocket callers word the refusal themselves."""

    def __init__(self, per_hour: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_hour = per_hour
        self.clock = clock
        self._times: dict[str, deque] = {}

    def wait(self, client: str) -> float:
        """0 and counted if allowed now; else seconds to wait (not counted)."""
        if not self.per_hour:
            return 0.0
        now = self.clock()
        for address in [a for a, times in self._times.items() if now - times[-1] >= 3600.0]:
            del self._times[address]  # addresses quiet for an hour: nothing to remember
        times = self._times.setdefault(client, deque())
        while times and now - times[0] >= 3600.0:
            times.popleft()
        if len(times) >= self.per_hour:
            return max(1.0, 3600.0 - (now - times[0]))
        times.append(now)
        return 0.0


def check_session_age(started_monotonic: float, max_minutes: float, now: float | None = None) -> None:
    """A session ends after `max_minutes` on one connection (0: no limit); a longer practice
    is a new session."""
    if not max_minutes:
        return
    age = (time.monotonic() if now is None else now) - started_monotonic
    if age > max_minutes * 60:
        raise ProtocolError("session_too_long", f"this session has run {age / 60:.0f} minutes, over the limit of "
                            f"{max_minutes:g}; send session.end for its summary and start a new session "
                            "(server setting max_session_minutes)")
