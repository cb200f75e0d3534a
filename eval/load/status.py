"""Sessions nobody ended and nobody has touched for a while read as abandoned in the reports,
by the rule the server's session list uses (server/store/status.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.store.status import read_status

from ..records import EvalSession


def with_read_status(sessions: list[EvalSession], abandon_after: timedelta | None,
                     now: datetime | None = None) -> list[EvalSession]:
    """The sessions with `status` as read at `now`: an active one idle past `abandon_after`
    (its newest turn, else its start) is abandoned. None leaves every status as stored."""
    if abandon_after is None:
        return sessions
    now = now or datetime.now(UTC)
    out = []
    for s in sessions:
        last = max((t.created_at for t in s.turns if t.created_at), default=None)
        out.append(s.model_copy(update={"status": read_status(s.status, s.started_at, last, abandon_after, now)}))
    return out
