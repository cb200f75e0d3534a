"""Getting sessions into `EvalSession` form: from the live store, or from JSONL exports of
any schema version (migrated on the way in)."""

from .filters import EvalFilter
from .source import load_sessions, Source

__all__ = ["EvalFilter", "Source", "load_sessions"]
