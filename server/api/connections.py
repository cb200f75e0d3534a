"""The session sockets open in this process, and how they are drained at shutdown.

On SIGTERM (a redeploy, a scale-down) a replica should not cut a learner off in the middle
of a turn: it stops taking new work, lets the turns in flight commit and send their events,
then closes every socket with 1012 ("service restart"). Clients reconnect, land on another
replica and resume; their leases were released when the sockets closed, so the resume does
not wait for them to expire.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)

RESTART_CODE = 1012
RESTART_REASON = "server restarting: reconnect and send session.resume"


class OpenConnections:
    def __init__(self) -> None:
        self._open: set = set()  # Conversations, closed through their outbox
        self._working = 0  # frames being handled
        self.draining = False  # set once at shutdown: new sockets and frames are turned away

    def add(self, conv) -> None:
        self._open.add(conv)

    def discard(self, conv) -> None:
        self._open.discard(conv)

    def __len__(self) -> int:
        return len(self._open)

    @asynccontextmanager
    async def working(self) -> AsyncIterator[None]:
        """Around the handling of one frame, events sent included: the drain waits for it."""
        self._working += 1
        try:
            yield
        finally:
            self._working -= 1

    async def drain(self, turns_running: Callable[[], bool], timeout_s: float) -> int:
        """Turn new work away, wait (at most `timeout_s`) for frames in hand and turns running to
        finish, then close every socket for a restart; returns how many were closed."""
        self.draining = True
        log.info("draining: %d socket(s) open; no new sessions or turns, waiting for turns in flight", len(self._open))
        deadline = time.monotonic() + timeout_s
        while (self._working or turns_running()) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self._working or turns_running():
            log.warning("draining: turns still running after %g s; closing their sockets anyway", timeout_s)
        closing = list(self._open)
        for conv in closing:
            await conv.outbox.close(RESTART_CODE, RESTART_REASON)
        log.info("draining: closed %d socket(s) for a restart", len(closing))
        return len(closing)
