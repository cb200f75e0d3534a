"""Session leases: which replica's connection drives each session, kept in the database.

Several `bedside serve` processes (replicas) may share one PostgreSQL. A learner who
reconnects can land on any of them, and the newest resume must take the session over
without a turn being lost, run twice, or written by the connection it replaced. So the
driver of a session is a row here, not a dict in one process's memory:

- a claim (session start or resume) sets the owner and adds one to `epoch`;
- a turn marks the row `busy` while it runs; a resume elsewhere waits until the turn has
  committed (or the lease expired: its replica died), then reads the latest state;
- every write of a turn first proves, in its own transaction, that the lease it was given
  still holds the row (`fence`); if the session was taken over, nothing is written.

Every change is a conditional UPDATE (or the first INSERT) inside one transaction: the
condition, not a read before it, decides. On PostgreSQL the UPDATE takes the row's lock
until commit, so a claim waits for a fenced write in progress and then sees its result;
SQLite's single writer gives the same order within one process. Times are the replicas'
clocks (UTC), so replicas need synchronised clocks (NTP) to well within the TTL.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .base import LeaseLost, SessionEnded, StoreError, UnknownSession
from .records import Lease, LeaseState
from .tables import SessionLeaseRow, SessionRow
from .times import now, utc

LEASES = SessionLeaseRow.__table__


def _until(t: datetime, ttl_s: float) -> datetime:
    return t + timedelta(seconds=ttl_s)


def _held_by(lease: Lease, *, released_ok: bool = False):
    """The WHERE clause of a write that needs `lease`: its row, its epoch, its owner (or, with
    `released_ok`, no owner at all: the connection let go, but nobody else claimed since)."""
    owner = (LEASES.c.replica == lease.replica) & (LEASES.c.connection == lease.connection)
    if released_ok:
        owner = or_(owner, LEASES.c.connection.is_(None))
    return (LEASES.c.session_id == lease.session_id) & (LEASES.c.epoch == lease.epoch) & owner


def fence(s: Session, lease: Lease, *, busy: bool | None = None, released_ok: bool = False) -> None:
    """Inside the caller's transaction, before its writes: prove `lease` still holds its session
    (and renew it, setting `busy` when given), or raise LeaseLost so the caller writes nothing.

    The conditional UPDATE holds the row's lock (PostgreSQL) or the write lock (SQLite) until
    the caller commits, so no claim can slip in between this check and the caller's write."""
    t = now()
    values = {"heartbeat_at": t, "expires_at": _until(t, lease.ttl_s)}
    if busy is not None:
        values["busy"] = busy
    if s.execute(update(LEASES).where(_held_by(lease, released_ok=released_ok)).values(**values)).rowcount != 1:
        raise LeaseLost(lease)


def drop(s: Session, session_ids: list[str]) -> None:
    """Inside the caller's transaction: the sessions are ended or deleted, so nobody drives them."""
    s.execute(LEASES.delete().where(LEASES.c.session_id.in_(session_ids)))


def _state(row: SessionLeaseRow) -> LeaseState:
    return LeaseState(session_id=row.session_id, replica=row.replica, connection=row.connection, epoch=row.epoch,
                      busy=row.busy, expires_at=utc(row.expires_at), heartbeat_at=utc(row.heartbeat_at))


class SqlLeases:
    """The `session_leases` table, on the session store's database (SqlSessionStore.leases)."""

    def __init__(self, session: sessionmaker):
        self._session = session

    def claim(self, session_id: str, replica: str, connection: str, ttl_s: float, *,
              wait_for_turn: bool = True) -> Lease | None:
        for _ in range(3):  # a lost race for the first INSERT is claimed again as an UPDATE
            try:
                return self._claim_once(session_id, replica, connection, ttl_s, wait_for_turn)
            except IntegrityError:
                continue
        raise StoreError(f"could not claim session {session_id}: its lease row kept changing")

    def _claim_once(self, session_id: str, replica: str, connection: str, ttl_s: float,
                    wait_for_turn: bool) -> Lease | None:
        with self._session.begin() as s:
            t = now()
            # free: no turn in flight, or the lease of the one in flight has expired (its replica
            # died), or it is this replica's own (its per-session lock already waited for the turn)
            free = (or_(LEASES.c.busy.is_(False), LEASES.c.expires_at < t, LEASES.c.replica == replica)
                    if wait_for_turn else true())
            take = (update(LEASES).where(LEASES.c.session_id == session_id, free)
                    .values(replica=replica, connection=connection, epoch=LEASES.c.epoch + 1, busy=False,
                            expires_at=_until(t, ttl_s), heartbeat_at=t)
                    .returning(LEASES.c.epoch))
            epoch = s.execute(take).scalar_one_or_none()
            if epoch is None and s.get(SessionLeaseRow, session_id) is not None:
                # PostgreSQL: the row may have been inserted (by a claim at the same moment) after the
                # UPDATE's snapshot was taken; now that it is visible, the UPDATE decides again
                epoch = s.execute(take).scalar_one_or_none()
                if epoch is None:
                    return None  # a turn is in flight on another replica: the caller waits and asks again
            # read after the UPDATE, which may have waited for an end_session to commit
            status = s.scalar(select(SessionRow.status).where(SessionRow.id == session_id))
            if status is None:
                raise UnknownSession(session_id)
            if status == "ended":
                raise SessionEnded(f"session {session_id} has ended; start a new one")
            if epoch is None:
                epoch = 1
                s.add(SessionLeaseRow(session_id=session_id, replica=replica, connection=connection, epoch=epoch,
                                      busy=False, expires_at=_until(t, ttl_s), heartbeat_at=t))
                s.flush()
        return Lease(session_id=session_id, replica=replica, connection=connection, epoch=epoch, ttl_s=ttl_s)

    def begin_turn(self, lease: Lease) -> None:
        with self._session.begin() as s:
            fence(s, lease, busy=True)

    def end_turn(self, lease: Lease) -> bool:
        with self._session.begin() as s:
            return s.execute(update(LEASES).where(_held_by(lease)).values(busy=False)).rowcount == 1

    def release(self, lease: Lease) -> bool:
        with self._session.begin() as s:
            return s.execute(update(LEASES).where(_held_by(lease))
                             .values(replica=None, connection=None, busy=False)).rowcount == 1

    def renew(self, replica: str, ttl_s: float) -> int:
        t = now()
        with self._session.begin() as s:
            return s.execute(update(LEASES).where(LEASES.c.replica == replica)
                             .values(expires_at=_until(t, ttl_s), heartbeat_at=t)).rowcount

    def release_replica(self, replica: str) -> int:
        with self._session.begin() as s:
            return s.execute(update(LEASES).where(LEASES.c.replica == replica)
                             .values(replica=None, connection=None, busy=False)).rowcount

    def holder(self, session_id: str) -> LeaseState | None:
        with self._session() as s:
            row = s.get(SessionLeaseRow, session_id)
            return _state(row) if row is not None else None
