"""Times as the store writes and reads them: aware UTC, whatever the database hands back."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(dt: datetime | None) -> datetime | None:
    """Aware UTC. SQLite hands back naive values, which the store always wrote as UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def now() -> datetime:
    return datetime.now(UTC)
