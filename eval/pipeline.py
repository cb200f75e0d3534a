"""The steps every `bedside eval` command is made of: metrics for each session, then
per-session pages, the cohort page and the tables. Each step is a plain function so the
benchmark and the tests time and call exactly what the CLI runs."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from tqdm import tqdm

from .metrics.cohort import cohort_metrics
from .metrics.session import SessionMetrics, session_metrics
from .packs import Packs
from .records import EvalSession
from .report.cohort_page import cohort_page
from .report.session_page import session_page


def bar(items: Iterable, total: int, desc: str, progress: bool | None):
    """A tqdm bar on stderr; progress=None shows it only when stderr is a terminal."""
    return tqdm(items, total=total, desc=desc, unit="session", file=sys.stderr, leave=False,
                disable=None if progress is None else not progress)


def evaluate(sessions: list[EvalSession], packs: Packs, *, progress: bool | None = None) -> list[SessionMetrics]:
    return [session_metrics(s, packs) for s in bar(sessions, len(sessions), "evaluating", progress)]


def session_file(m: SessionMetrics) -> str:
    return f"session-{m.session_id}.html"


def write_session_pages(ms: list[SessionMetrics], out_dir: Path, *, progress: bool | None = None) -> dict[str, str]:
    """One page per session; returns session id -> file name (relative to out_dir)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    links = {}
    for m in bar(ms, len(ms), "session pages", progress):
        name = session_file(m)
        (out_dir / name).write_text(session_page(m), encoding="utf-8")
        links[m.session_id] = name
    return links


def write_cohort_page(ms: list[SessionMetrics], path: Path, *, links: dict[str, str] | None = None,
                      source: str = "", title: str = "Cohort report") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(cohort_page(cohort_metrics(ms), ms, links=links, source=source, title=title), encoding="utf-8")
    return path
