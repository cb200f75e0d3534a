"""`bedside chat`: a terminal conversation with a persona, or a scripted run.

With --script FILE --json it prints one JSON object per learner line. This is the main
scripting interface for tests and evaluation, so its keys are stable (SCRIPT_KEYS).
"""

from __future__ import annotations

import json
import sys

from .engine.factory import build_engine

SCRIPT_KEYS = ("turn", "learner", "act", "grade", "state_before", "state_after", "disclosed", "reply", "realiser",
               "fallback_reason", "timings_ms")


def turn_json(result) -> dict:
    return {
        "turn": result.turn_index,
        "learner": result.learner_text,
        "act": result.act.value,
        "grade": result.grade.model_dump(),
        "state_before": result.state_before.model_dump(),
        "state_after": result.state_after.model_dump(),
        "disclosed": result.disclosed,
        "reply": result.reply,
        "realiser": result.realiser,
        "fallback_reason": result.fallback_reason,
        "timings_ms": result.timings_ms,
    }


def run_chat(args, settings) -> int:
    engine = build_engine(settings)
    try:
        pack = engine.pack(args.persona)
    except (KeyError, ValueError) as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        for p in engine.registry.problems:
            print(f"  refused pack: {p}", file=sys.stderr)
        return 2
    state, opening = engine.start(pack.id)
    if args.script:
        src = sys.stdin if args.script == "-" else open(args.script, encoding="utf-8")
        lines = [ln.strip() for ln in src if ln.strip() and not ln.lstrip().startswith("#")]
    else:
        lines = None
    if not args.json:
        print(f"[{pack.title}: {pack.identity.name}, {pack.identity.age}]  (empty line or Ctrl-D ends)")
        print(f"PATIENT: {opening}")
    elif args.json and lines is not None:
        print(json.dumps({"turn": 0, "persona": pack.id, "reply": opening, "state_after": state.emotional.model_dump()}))

    def one(text: str) -> None:
        nonlocal state
        result, state = engine.respond(state, text)
        if args.json:
            print(json.dumps(turn_json(result)), flush=True)
        else:
            g = result.grade
            eccs = f"ECCS {g.eccs}" if g.eccs is not None else "no opportunity"
            print(f"   [{result.act.value}; {eccs}; NURSE {','.join(g.nurse) or '-'}; flags {','.join(g.flags) or '-'}]")
            print(f"   [{g.feedback}]")
            e = state.emotional
            print(f"   [trust {e.trust:.2f} distress {e.distress:.2f} {e.emotion} ({e.style})]")
            print(f"PATIENT: {result.reply}")

    if lines is not None:
        for text in lines:
            one(text)
        return 0
    while True:
        try:
            text = input("YOU: ").strip()
        except EOFError:
            break
        if not text:
            break
        one(text)
    return 0
