"""`bedside eval ...`, `bedside simulate` and `bedside loadtest` (also `python -m eval ...`).

This module only wires flags to the functions that do the work; it imports them lazily so
`bedside --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EVAL_COMMANDS = ("report", "sessions", "cohort", "csv", "xapi", "regrade", "agreement")


def _source_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("where sessions come from (default: the server's session store)")
    g.add_argument("--data-dir", dest="data_dir", help="data directory (env BEDSIDE_DATA_DIR)")
    g.add_argument("--database-url", dest="database_url", help="SQLAlchemy URL (env BEDSIDE_DATABASE_URL)")
    g.add_argument("--persona-dir", dest="persona_dir", help="persona packs directory (env BEDSIDE_PERSONA_DIR)")
    g.add_argument("--jsonl", action="append", type=Path, metavar="FILE",
                   help="read exported JSONL instead of the store (any schema version; repeatable)")
    f = p.add_argument_group("which sessions")
    f.add_argument("--learner", action="append", metavar="ID", help="only these learners (repeatable)")
    f.add_argument("--persona", action="append", metavar="ID", help="only these personas (repeatable)")
    f.add_argument("--session", action="append", metavar="ID", help="only these session ids (repeatable)")
    f.add_argument("--since", help="sessions started on or after this date/time (ISO 8601)")
    f.add_argument("--until", help="sessions started on or before this date/time (a bare date includes that day)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: only when stderr is a terminal)")


def _grader_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--grader", choices=["rules", "trained", "judge"], help="grader backend (env BEDSIDE_GRADER)")


def add_eval_commands(sub: argparse._SubParsersAction) -> None:
    """The eval subcommands, added to `sub` (bedside's `eval` group, or python -m eval)."""
    p = sub.add_parser("report", help="everything: per-session pages, cohort page, CSV and xAPI")
    _source_flags(p)
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--no-session-pages", dest="session_pages", action="store_false", help="skip the per-session pages")
    _xapi_flags(p)

    p = sub.add_parser("sessions", help="one self-contained HTML page per session")
    _source_flags(p)
    p.add_argument("--out", type=Path, required=True, help="output directory")

    p = sub.add_parser("cohort", help="the cohort page: per learner, per persona, progress")
    _source_flags(p)
    p.add_argument("--out", type=Path, required=True, help="HTML file to write")
    p.add_argument("--title", default="Cohort report")

    p = sub.add_parser("csv", help="turns.csv and sessions.csv (columns: docs/evaluation.md)")
    _source_flags(p)
    p.add_argument("--out", type=Path, required=True, help="output directory")

    p = sub.add_parser("xapi", help="xAPI statements: one per session, one per graded turn")
    _source_flags(p)
    p.add_argument("--out", type=Path, required=True, help="JSON file to write (an array of statements)")
    _xapi_flags(p)

    p = sub.add_parser("regrade", help="re-run the current grader read-only; diff report of what changed")
    _source_flags(p)
    _grader_flag(p)
    p.add_argument("--out", type=Path, required=True, help="output directory")

    p = sub.add_parser("agreement", help="grader vs human ratings: kappa, Lin's CCC, confusion matrices")
    _source_flags(p)
    _grader_flag(p)
    p.add_argument("--human", type=Path, required=True, help="ratings CSV/JSONL (session_id+turn_id or context+response)")
    p.add_argument("--out", type=Path, help="directory for agreement.json and agreement.html")
    p.add_argument("--threshold", action="append", default=[], metavar="FIELD=VALUE",
                   help="pass/fail cut-off (pass = at or above), e.g. eccs=3 (the default)")
    p.add_argument("--current-grader", action="store_true",
                   help="turn-keyed ratings: compare with a fresh re-grade instead of the stored grades")


def _xapi_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--xapi-base", default="https://bedside.example/xapi", help="IRI base for activities and extensions")
    p.add_argument("--xapi-home-page", default="https://bedside.example", help="account homePage for learner ids")


def add_simulate_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="store simulated sessions: scripted learners through the real engine")
    p.add_argument("--data-dir", dest="data_dir", help="data directory (env BEDSIDE_DATA_DIR)")
    p.add_argument("--database-url", dest="database_url", help="SQLAlchemy URL (env BEDSIDE_DATABASE_URL)")
    p.add_argument("--persona-dir", dest="persona_dir", help="persona packs directory (env BEDSIDE_PERSONA_DIR)")
    _grader_flag(p)
    p.add_argument("--persona", required=True, help="persona pack id")
    p.add_argument("--learner-style", required=True, choices=["empathic", "dismissive", "mixed", "sympathetic"])
    p.add_argument("--sessions", type=int, default=1)
    p.add_argument("--learner-id", help="learner id for every session (default sim-<style>)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval", description="Evaluate Bedside sessions after they happen")
    sub = parser.add_subparsers(dest="eval_command", required=True)
    add_eval_commands(sub)
    add_simulate_command(sub)
    from .loadtest.cli import add_parser as add_loadtest_parser
    add_loadtest_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return getattr(args, "plugin_run", run)(args)


def register(sub: argparse._SubParsersAction) -> None:
    """`bedside eval ...`, `bedside simulate` and `bedside loadtest`: added to bedside's commands
    through the entry point in pyproject.toml (group bedside.commands), so the server never
    imports eval/."""
    ev = sub.add_parser("eval", help="evaluate stored sessions: reports, CSV, xAPI, re-grading, agreement")
    ev.set_defaults(plugin_run=run)
    add_eval_commands(ev.add_subparsers(dest="eval_command", required=True))
    add_simulate_command(sub)
    sub.choices["simulate"].set_defaults(plugin_run=run)
    from .loadtest.cli import add_parser as add_loadtest_parser
    add_loadtest_parser(sub)


def run(args: argparse.Namespace) -> int:
    from . import commands

    name = getattr(args, "eval_command", None) or args.command
    try:
        return commands.HANDLERS[name](args)
    except ModuleNotFoundError as exc:
        if exc.name != "matplotlib":
            raise
        from server.extras import missing_message

        print(f"error: {missing_message('reports', 'the charts of bedside eval')}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError, KeyError) as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
