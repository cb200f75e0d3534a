"""`bedside loadtest URL`: flags in, a report out. Added to `bedside` by eval/cli.py's `register`
(the bedside.commands entry point), so the server never imports it.

Exit codes: 0 passed; 1 turns lost, sessions not verifiable, or errors over the threshold;
2 the run could not start (bad URL, server unreachable, unknown persona, refused token).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("loadtest", help="many simulated learners at once against a server: latency per stage, errors, "
                                        "and a check that every acknowledged turn was stored",
                       description="Simulated learners against one Bedside base URL (a server, or a proxy over "
                                   "several replicas). Run it against a server with its own database: the sessions it "
                                   "makes are stored like any other. See docs/scaling.md.")
    p.add_argument("url", metavar="URL", help="the server's base URL, e.g. http://127.0.0.1:8000")
    p.add_argument("--mode", choices=["text", "voice"], default="text",
                   help="typed turns, or spoken turns streamed as 16 kHz audio in real time (default text)")
    p.add_argument("--sessions", type=int, default=10, metavar="N", help="concurrent sessions (default 10)")
    p.add_argument("--turns", type=int, default=5, metavar="T", help="learner turns per session (default 5)")
    p.add_argument("--persona", metavar="ID", help="every session with this persona (default: the server's personas "
                                                   "in turn)")
    p.add_argument("--pacing", choices=["realistic", "none"], default="realistic",
                   help="realistic: a think time before each turn (and in voice, the reply heard out); none: stress "
                        "mode, turns back to back (default realistic)")
    p.add_argument("--think-s", default="4-10", metavar="LOW-HIGH",
                   help="realistic pacing's think time, uniform in seconds, seeded (default 4-10)")
    p.add_argument("--ramp-s", type=float, default=0.0, metavar="S",
                   help="spread the session starts evenly over this many seconds (default 0: all at once)")
    p.add_argument("--seed", type=int, default=0, help="lines and think times (default 0)")
    p.add_argument("--push-to-talk", action="store_true",
                   help="voice: speak like the browser's push-to-talk (a 600 ms tail, then learner.audio.commit) "
                        "instead of hands-free")
    p.add_argument("--educator-token", metavar="TOKEN",
                   help="read sessions back with the educator token (env BEDSIDE_EDUCATOR_TOKEN; default: each "
                        "session's own learner token)")
    p.add_argument("--timeout-s", type=float, default=60.0, metavar="S",
                   help="longest wait for a reply before the session gives up (default 60)")
    p.add_argument("--max-error-rate", type=float, default=0.01, metavar="FRACTION",
                   help="fail when errors per planned turn exceed this (default 0.01)")
    p.add_argument("--audio-cache", type=Path, metavar="DIR",
                   help="voice: where the synthesised learner lines are kept (default ~/.cache/bedside/loadtest)")
    p.add_argument("--learner-prefix", default="loadtest", help="learner ids are PREFIX-<run>-<n> (default loadtest)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(plugin_run=run)


def run(args: argparse.Namespace) -> int:
    from .pacing import Pacing, ThinkTime
    from .report import LoadReport, render
    from .runner import Options, run as run_load
    from .target import SetupError

    try:
        if args.sessions < 1 or args.turns < 1:
            raise SetupError("--sessions and --turns must be at least 1")
        if args.ramp_s < 0 or args.timeout_s <= 0 or not 0 <= args.max_error_rate <= 1:
            raise SetupError("--ramp-s must be 0 or more, --timeout-s more than 0, --max-error-rate from 0 to 1")
        try:
            pacing = Pacing(args.pacing, ThinkTime.parse(args.think_s))
        except ValueError as exc:
            raise SetupError(str(exc)) from None
        options = Options(url=args.url, mode=args.mode, sessions=args.sessions, turns=args.turns, persona=args.persona,
                          pacing=pacing, ramp_s=args.ramp_s, seed=args.seed,
                          educator_token=args.educator_token or os.environ.get("BEDSIDE_EDUCATOR_TOKEN") or None,
                          timeout_s=args.timeout_s, max_error_rate=args.max_error_rate, push_to_talk=args.push_to_talk,
                          audio_cache=args.audio_cache, learner_prefix=args.learner_prefix)
        report: LoadReport = run_load(options)
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.model_dump_json(indent=2) if args.json else render(report))
    if not report.passed:
        print("loadtest FAILED: " + " | ".join(report.problems), file=sys.stderr)
    return 0 if report.passed else 1

