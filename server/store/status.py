"""A session's status as people read it: active, ended or abandoned.

The store keeps only `active` and `ended`. A session a learner walked away from is never
ended, so "abandoned" is derived when a session is read: not ended, and no turn (or, with
no turns, no start) for longer than `abandon_after` (BEDSIDE_ABANDON_AFTER_MIN). Nothing is
written, so there is no column to migrate, a changed setting applies to every session at
once, and a learner who resumes an abandoned session makes it active again with their next
turn (and ended when they end it), with no mark to take back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

ReadStatus = Literal["active", "ended", "abandoned"]


def read_status(status: str, started_at: datetime, last_turn_at: datetime | None, abandon_after: timedelta | None,
                now: datetime | None = None) -> ReadStatus:
    """`status` as stored, except that an active session idle past `abandon_after` (None: never)
    is abandoned. Naive times are taken as UTC, as the store writes them."""
    if status == "active" and abandon_after is not None:
        last = last_turn_at or started_at
        last = last.replace(tzinfo=UTC) if last.tzinfo is None else last
        if (now or datetime.now(UTC)) - last > abandon_after:
            return "abandoned"
    return status  # type: ignore[return-value]
