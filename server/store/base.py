"""The `SessionStore` interface: what the server needs from persistence, nothing more.

Every method is synchronous and commits before returning. Async callers must wrap
calls in `await asyncio.to_thread(...)` so a slow disk never stalls the event loop.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ..core.types import SessionState, TurnResult
from .records import LearnerKeyRecord, Lease, LeaseState, Mode, SessionFilter, SessionRecord, TurnRecord


class StoreError(Exception):
    """Base class for store problems a caller can act on."""


class UnknownSession(StoreError, KeyError):
    pass


class SessionEnded(StoreError):
    pass


class LeaseLost(StoreError):
    """The session was taken over (resumed on another connection, perhaps on another replica)
    since this lease was granted; the write it guarded was not made."""

    def __init__(self, lease: Lease):
        self.lease = lease
        super().__init__(f"session {lease.session_id} is no longer held by connection {lease.connection} "
                         f"of replica {lease.replica} (epoch {lease.epoch})")


class LearnerIdTaken(StoreError):
    """Another personal key already holds this learner id."""

    def __init__(self, learner_id: str):
        self.learner_id = learner_id
        super().__init__(f"learner id {learner_id!r} belongs to another personal key")


class TurnConflict(StoreError):
    """A different turn already holds this (session, turn_index); the caller's state is stale."""

    def __init__(self, existing: TurnRecord):
        self.existing = existing
        super().__init__(f"turn {existing.turn_index} of session {existing.session_id} is already stored with other text")


class LearnerKeys(Protocol):
    """Learner personal keys (server/store/learner_keys.py): stored as digests only."""

    def create(self, key: str) -> LearnerKeyRecord:
        """Store a fresh key, not yet tied to a learner id."""
        ...

    def find(self, key: str | None) -> LearnerKeyRecord | None: ...

    def is_held(self, learner_id: str) -> bool:
        """Whether some key holds this learner id."""
        ...

    def bind(self, key_hash: str, learner_id: str) -> LearnerKeyRecord:
        """Tie an unbound key to `learner_id` (a bound key keeps its id); LearnerIdTaken if another key holds it."""
        ...


class RewindRefused(StoreError):
    """A turn that may not be taken back now: `reason` is "not_last" (not the newest turn, or
    already taken back) or "not_ready" (its reply is still being spoken)."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


class SessionLeases(Protocol):
    """Which replica's connection drives each session (server/store/leases.py). Every change is
    made inside one transaction, so replicas sharing a database agree on a single driver."""

    def claim(self, session_id: str, replica: str, connection: str, ttl_s: float, *,
              wait_for_turn: bool = True) -> Lease | None:
        """Make this connection the session's driver (the newest claim wins). With `wait_for_turn`,
        None while another replica has a turn in flight on a lease that has not expired.
        UnknownSession or SessionEnded when there is nothing to drive."""
        ...

    def begin_turn(self, lease: Lease) -> None:
        """Mark a turn in flight (a resume elsewhere waits for it); LeaseLost if taken over."""
        ...

    def end_turn(self, lease: Lease) -> bool:
        """The turn is over without a fenced write saying so (a replay, an error)."""
        ...

    def release(self, lease: Lease) -> bool:
        """The connection has gone: the session is free, and the next claim takes it without waiting."""
        ...

    def renew(self, replica: str, ttl_s: float) -> int:
        """The heartbeat: extend every lease this replica holds; returns how many."""
        ...

    def release_replica(self, replica: str) -> int:
        """Shutdown: free every lease this replica holds; returns how many."""
        ...

    def holder(self, session_id: str) -> LeaseState | None: ...


@runtime_checkable
class SessionStore(Protocol):
    learner_keys: LearnerKeys
    leases: SessionLeases

    def create_session(self, *, learner_id: str, persona_id: str, mode: Mode, token: str,
                       opening: str, initial_state: SessionState) -> SessionRecord:
        """Start a session; only the token's hash is kept."""
        ...

    def append_turn(self, session_id: str, result: TurnResult, state: SessionState, *,
                    interrupted: bool = False, extra: dict[str, Any] | None = None, lease: Lease | None = None,
                    last_write: bool = True) -> TurnRecord:
        """Write one turn in its own transaction. Idempotent on (session_id, turn_index):
        a repeat returns the stored row; different text for a stored index raises TurnConflict.
        With a `lease`, the same transaction checks it still holds the session (LeaseLost, nothing
        written, if not) and, when `last_write`, ends its turn in flight."""
        ...

    def end_session(self, session_id: str, summary: dict[str, Any], final_state: SessionState, *,
                    lease: Lease | None = None) -> SessionRecord:
        """Mark ended with its summary; ending twice keeps the first summary. The session's lease
        goes with it; a given `lease` is checked first (LeaseLost)."""
        ...

    def get_session(self, session_id: str) -> SessionRecord | None: ...

    def list_sessions(self, filters: SessionFilter | None = None) -> list[SessionRecord]: ...

    def annotate_turn(self, session_id: str, turn_index: int, extra: dict[str, Any], *,
                      interrupted: bool | None = None) -> TurnRecord:
        """Merge facts learned after a turn was committed (voice timings, a barge-in) into
        its `extra`; the turn's words and grade are never changed."""
        ...

    def finish_reply(self, session_id: str, turn_index: int, *, reply: str, realiser: str,
                     state: SessionState | None, extra: dict[str, Any], lease: Lease | None = None) -> TurnRecord:
        """Record the words a streamed reply actually spoke (see SqlSessionStore.finish_reply)."""
        ...

    def turns(self, session_id: str) -> list[TurnRecord]: ...

    def find_client_turn(self, session_id: str, client_turn_id: str) -> TurnRecord | None:
        """The stored turn a client tagged with this id, if any (resends after reconnect)."""
        ...

    def latest_state(self, session_id: str) -> SessionState | None:
        """State to resume from: after the last stored turn not taken back, or the initial state."""
        ...

    def rewind_turn(self, session_id: str, turn_index: int, *,
                    lease: Lease | None = None) -> tuple[SessionState, TurnRecord]:
        """Mark the newest turn taken back ("Try that again", server/store/branches.py) and return
        the state before it with the marked turn; raises RewindRefused when it may not be, and
        LeaseLost when a given `lease` no longer holds the session (ending its turn otherwise)."""
        ...

    def delete_learner(self, learner_id: str) -> list[SessionRecord]:
        """Delete every session of this learner with its turns and grades; returns what was deleted.
        Audio files live outside the store (server/store/audio.py)."""
        ...

    def ping(self) -> None:
        """One cheap round trip to the database (SELECT 1); raises when it cannot be reached.
        The readiness probe (api/readiness.py) calls it, in a thread, with its own time limit."""
        ...

    def close(self) -> None: ...
