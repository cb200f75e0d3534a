"""Open the session store so that evaluation cannot change it.

SQLite files are opened through a `mode=ro` URI: SQLite itself then refuses every write,
so a bug in evaluation (or a re-grade) can never touch the learners' records. Other
databases are opened as usual; evaluation only ever calls the store's read methods.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import make_url

from server.store.sql import SqlSessionStore, open_store


class MissingDatabase(FileNotFoundError):
    pass


def readonly_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return url
    db = parsed.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return url
    path = Path(db).expanduser().resolve()
    if not path.exists():
        raise MissingDatabase(f"no session database at {path}; check --data-dir / --database-url")
    return f"sqlite:///file:{quote(str(path))}?mode=ro&uri=true"


def open_readonly(url: str) -> SqlSessionStore:
    return open_store(readonly_url(url))
