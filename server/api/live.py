"""Which of this process's connections drives each session, and a lock per session.

A learner who reconnects resumes on a new socket while the old one may still look
open to the server. The newest claim wins; the turn lock makes the hand-over wait for
any turn in flight, so the resumed socket continues from the latest committed state.
This is the in-process fast path: the database lease (api/leases.py) decides between
replicas, and its fencing guards every commit.
"""

from __future__ import annotations

import asyncio


class LiveSessions:
    def __init__(self) -> None:
        self._owners: dict[str, object] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, session_id: str) -> asyncio.Lock:
        if session_id not in self._locks:
            self._locks[session_id] = asyncio.Lock()
        return self._locks[session_id]

    def claim(self, session_id: str, owner: object) -> object | None:
        """Make `owner` the driver of the session; returns whoever drove it before."""
        previous = self._owners.get(session_id)
        self._owners[session_id] = owner
        return previous if previous is not owner else None

    def owns(self, session_id: str, owner: object) -> bool:
        return self._owners.get(session_id) is owner

    def release(self, session_id: str, owner: object, *, ended: bool = False) -> None:
        if self._owners.get(session_id) is owner:
            del self._owners[session_id]
        if ended:
            lock = self._locks.get(session_id)
            if lock is not None and not lock.locked():
                del self._locks[session_id]

    def busy(self) -> bool:
        """Whether a turn (or an end, a retry, a streamed reply's finish) is running in this process."""
        return any(lock.locked() for lock in self._locks.values())

    def __len__(self) -> int:
        return len(self._owners)
