"""One handler per command: settings and flags in, files out, a short summary on stdout."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from server.config import Settings, get_settings
from server.redact import redact_url

from .load import EvalFilter, Source, load_sessions
from .load.filters import parse_when
from .metrics.session import SessionMetrics
from .packs import Packs


def settings_of(args: argparse.Namespace) -> Settings:
    keys = ("data_dir", "database_url", "persona_dir", "grader")
    return get_settings(**{k: getattr(args, k, None) for k in keys})


def filter_of(args: argparse.Namespace) -> EvalFilter:
    return EvalFilter(
        learners=args.learner or [], personas=args.persona or [], session_ids=args.session or [],
        since=parse_when(args.since) if args.since else None,
        until=parse_when(args.until, end_of_day=True) if args.until else None,
    )


def source_of(args: argparse.Namespace, settings: Settings) -> Source:
    if args.jsonl:
        return Source(jsonl=args.jsonl)
    return Source(database_url=settings.resolved_database_url())


def _metrics(args: argparse.Namespace) -> tuple[list[SessionMetrics], Source] | None:
    from .pipeline import evaluate

    settings = settings_of(args)
    source = source_of(args, settings)
    sessions = load_sessions(source, filter_of(args), progress=args.progress, abandon_after=settings.abandon_after)
    if not sessions:
        print(f"no sessions match in {source.describe()}", file=sys.stderr)
        return None
    return evaluate(sessions, Packs(settings.persona_dir), progress=args.progress), source


def _xapi(ms: list[SessionMetrics], args: argparse.Namespace, path: Path) -> int:
    from .export.xapi import XapiConfig, checked_statements

    out = checked_statements(ms, XapiConfig(base=args.xapi_base, home_page=args.xapi_home_page))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    return len(out)


def cmd_report(args: argparse.Namespace) -> int:
    from .export.csv_tables import write_tables
    from .pipeline import write_cohort_page, write_session_pages

    got = _metrics(args)
    if got is None:
        return 1
    ms, source = got
    links = write_session_pages(ms, args.out, progress=args.progress) if args.session_pages else None
    cohort = write_cohort_page(ms, args.out / "index.html", links=links, source=source.describe())
    tables = write_tables(ms, args.out)
    n = _xapi(ms, args, args.out / "xapi-statements.json")
    print(f"{len(ms)} sessions -> {cohort}" + (f", {len(links)} session pages" if links else "")
          + f", {tables['turns'].name}, {tables['sessions'].name}, {n} xAPI statements")
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    from .pipeline import write_session_pages

    got = _metrics(args)
    if got is None:
        return 1
    links = write_session_pages(got[0], args.out, progress=args.progress)
    print(f"{len(links)} session pages in {args.out}")
    return 0


def cmd_cohort(args: argparse.Namespace) -> int:
    from .pipeline import write_cohort_page

    got = _metrics(args)
    if got is None:
        return 1
    path = write_cohort_page(got[0], args.out, source=got[1].describe(), title=args.title)
    print(f"{len(got[0])} sessions -> {path}")
    return 0


def cmd_csv(args: argparse.Namespace) -> int:
    from .export.csv_tables import write_tables

    got = _metrics(args)
    if got is None:
        return 1
    paths = write_tables(got[0], args.out)
    print(f"{len(got[0])} sessions -> {paths['turns']}, {paths['sessions']}")
    return 0


def cmd_xapi(args: argparse.Namespace) -> int:
    got = _metrics(args)
    if got is None:
        return 1
    n = _xapi(got[0], args, args.out)
    print(f"{n} xAPI statements -> {args.out}")
    return 0


def cmd_regrade(args: argparse.Namespace) -> int:
    from server.grading.factory import build_grader

    from .regrade.run import regrade_store, write_regrade

    if args.jsonl:
        raise ValueError("regrade reads the session store (it needs each turn's stored engine state), not JSONL")
    settings = settings_of(args)
    url = settings.resolved_database_url()
    result, regraded = regrade_store(url, build_grader(settings), Packs(settings.persona_dir), filter_of(args),
                                     progress=args.progress)
    paths = write_regrade(result, regraded, args.out, source=redact_url(url))
    s = result.summary
    print(f"{s.turns} turns in {s.sessions} sessions re-graded ({', '.join(s.old_versions)} -> {s.new_version}): "
          f"{s.changed_turns} turns changed; mean ECCS {s.old_mean_eccs} -> {s.new_mean_eccs}. "
          f"{paths['html']}, {paths['json']}")
    return 0


def _thresholds(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        field, _, value = item.partition("=")
        if not value:
            raise ValueError(f"--threshold {item!r}: write FIELD=VALUE, e.g. eccs=3")
        out[field.strip()] = float(value)
    return out


def cmd_agreement(args: argparse.Namespace) -> int:
    from server.grading.factory import build_grader

    from .agreement.run import run_agreement, text_summary, write_agreement

    settings = settings_of(args)
    report = run_agreement(args.human, build_grader(settings), database_url=settings.resolved_database_url(),
                           packs=Packs(settings.persona_dir), current_grader=args.current_grader,
                           thresholds=_thresholds(args.threshold))
    print(text_summary(report))
    if args.out:
        paths = write_agreement(report, args.out)
        print(f"-> {paths['html']}, {paths['json']}")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from server.engine.factory import build_engine
    from server.store.sql import open_store

    from .simulate.runner import SimulationRequest, simulate

    settings = settings_of(args)
    req = SimulationRequest(persona_id=args.persona, style=args.learner_style, sessions=args.sessions,
                            learner_id=args.learner_id, seed=args.seed)
    engine = build_engine(settings)
    store = open_store(settings.resolved_database_url())
    try:
        ids = simulate(engine, store, req, progress=args.progress)
    finally:
        store.close()
    print(f"stored {len(ids)} simulated {req.style} sessions for {req.learner} with {req.persona_id} "
          f"in {redact_url(settings.resolved_database_url())}")
    return 0


HANDLERS = {"report": cmd_report, "sessions": cmd_sessions, "cohort": cmd_cohort, "csv": cmd_csv, "xapi": cmd_xapi,
            "regrade": cmd_regrade, "agreement": cmd_agreement, "simulate": cmd_simulate}
