"""This server process's side of the session leases (server/store/leases.py).

Each `bedside serve` process is one replica, with an id of its own (host, pid and a random
part, logged at start). Its connections claim sessions in the database under that id; a
heartbeat renews every lease it holds, so a resume on another replica waits for a turn in
flight here only while this process is alive; at shutdown it lets them all go. Store calls
run in worker threads, like every other store call of the server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from ..store.base import SessionLeases
from ..store.records import Lease

log = logging.getLogger(__name__)

POLL_S = 0.1
"""How often a resume asks again while another replica's turn is in flight."""


def new_replica_id() -> str:
    """Unique per process: the host and pid say where it runs, the random part that it is not an
    earlier process with the same pid."""
    return f"{socket.gethostname()[:80]}-{os.getpid()}-{secrets.token_hex(3)}"


class ReplicaLeases:
    def __init__(self, leases: SessionLeases, ttl_s: float, max_wait_s: float, replica: str | None = None):
        self.store = leases
        self.ttl_s = ttl_s
        self.max_wait_s = max_wait_s  # the longest a turn may run before a resume stops waiting for it
        self.replica = replica or new_replica_id()

    async def claim(self, session_id: str, connection: str) -> Lease:
        """A session this connection has just started: nobody else can hold it yet."""
        return await asyncio.to_thread(self.store.claim, session_id, self.replica, connection, self.ttl_s)

    async def take(self, session_id: str, connection: str) -> Lease:
        """A resume: the newest connection wins, but not in the middle of a turn. While another
        replica runs one, wait until it commits, or its lease expires (that replica died), or
        `max_wait_s` passes (a turn that never ends); its writes are fenced off from then on."""
        deadline = time.monotonic() + self.max_wait_s
        waited = False
        while True:
            force = time.monotonic() >= deadline
            lease = await asyncio.to_thread(self.store.claim, session_id, self.replica, connection, self.ttl_s,
                                            wait_for_turn=not force)
            if lease is not None:
                if force:
                    log.warning("session %s: took it over after %g s waiting for a turn on another replica",
                                session_id, self.max_wait_s)
                elif waited:
                    log.info("session %s: the other replica's turn is over; taken over (epoch %d)", session_id, lease.epoch)
                return lease
            if not waited:
                log.info("session %s: waiting for a turn in flight on another replica before resuming it", session_id)
                waited = True
            await asyncio.sleep(POLL_S)

    async def begin_turn(self, lease: Lease) -> None:
        await asyncio.to_thread(self.store.begin_turn, lease)

    async def end_turn(self, lease: Lease) -> None:
        """Shielded: a turn cancelled on its way out must not leave its lease busy (a resume
        elsewhere would wait for a turn that is over)."""
        await asyncio.shield(asyncio.to_thread(self.store.end_turn, lease))

    async def release(self, lease: Lease) -> None:
        """The socket is gone; a failure is only logged: the lease is not busy, so nothing waits on it."""
        try:
            await asyncio.to_thread(self.store.release, lease)
        except Exception:
            log.exception("session %s: could not release its lease", lease.session_id)

    @asynccontextmanager
    async def kept(self) -> AsyncIterator[None]:
        """While the server runs: the heartbeat. At shutdown: release what this replica still holds."""
        log.info("replica %s: session leases last %g s, renewed every %g s", self.replica, self.ttl_s, self.ttl_s / 3)
        beat = asyncio.create_task(self._beat())
        try:
            yield
        finally:
            beat.cancel()
            with suppress(asyncio.CancelledError):
                await beat
            try:
                n = await asyncio.to_thread(self.store.release_replica, self.replica)
                log.info("replica %s: released %d session lease(s)", self.replica, n)
            except Exception:
                log.exception("replica %s: could not release its session leases; they expire in %g s",
                              self.replica, self.ttl_s)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.ttl_s / 3)
            try:
                await asyncio.to_thread(self.store.renew, self.replica, self.ttl_s)
            except Exception:  # the database may be back by the next beat
                log.exception("replica %s: renewing session leases failed", self.replica)
