"""Where sessions come from: the store (default) or JSONL files, plus the filter."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, Field
from tqdm import tqdm

from server.redact import redact_url

from ..records import EvalSession
from .filters import EvalFilter
from .jsonl import load_jsonl
from .readonly import open_readonly
from .status import with_read_status
from .store import iter_store, matching_records


class Source(BaseModel):
    """Exactly one of: JSONL files, or a database URL."""

    database_url: str | None = None
    jsonl: list[Path] = Field(default_factory=list)

    def describe(self) -> str:
        """For messages and report footers: a database URL is shown without its password."""
        return ", ".join(map(str, self.jsonl)) if self.jsonl else redact_url(self.database_url)


def load_sessions(source: Source, flt: EvalFilter | None = None, *, progress: bool | None = None,
                  abandon_after: timedelta | None = None) -> list[EvalSession]:
    """All matching sessions with their turns, oldest first. The store is opened read-only.
    With `abandon_after`, sessions left idle that long read as abandoned (load/status.py)."""
    flt = flt or EvalFilter()
    if source.jsonl:
        return with_read_status([s for s in load_jsonl(source.jsonl) if flt.matches(s)], abandon_after)
    if not source.database_url:
        raise ValueError("no source: give JSONL files or a database URL")
    store = open_readonly(source.database_url)
    try:
        records = matching_records(store, flt)
        bar = tqdm(iter_store(store, records), total=len(records), desc="loading sessions", unit="session",
                   file=sys.stderr, disable=_quiet(progress), leave=False)
        return with_read_status(list(bar), abandon_after)
    finally:
        store.close()


def _quiet(progress: bool | None) -> bool | None:
    """tqdm's `disable`: None lets tqdm decide (off when stderr is not a terminal)."""
    return None if progress is None else not progress
