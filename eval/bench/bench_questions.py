"""Does the patient answer what was asked? The question banks through the real engine.

Each bank line (eval/question_banks/<pack>.jsonl, written blind: without reading the pack's
example questions) is played in a fresh session of its pack through `Engine.respond`, the
path `bedside chat` and the websocket take; a "followup" line is played after the line before
it, in the same session. Lines with a "session" key are a history script instead: every line of
that session is played in order in one session, and where its trust and distress end is reported
against the pack's baseline. Judged on the turn's plan (what the reply discloses):

  relevant      a covered question gets one of its expected facts (or concerns); a question the
                case does not cover gets a "no" or "not sure" and no fact; a risk question gets
                the pack's risk answer
  gated         a covered question whose fact is gated at the session's starting trust, and the
                patient deflects: by design (trust gates disclosure), counted apart
  deflected     a covered, ungated fact answered with "not sure" or a deflection
  wrong         a fact given that the question did not ask for (or any fact, when the case does
                not cover it), or a risk question answered with anything but the risk answer

    .venv/bin/python eval/bench/bench_questions.py [--split test|dev|all] [--banks eval/question_banks] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from eval.bench.targets import Targets  # noqa: E402


def judge(line: dict, result, pack) -> str:
    plan = result.plan
    expect = set(line.get("expect") or [])
    given = set(plan.facts) | ({plan.concern} if plan.concern else set())
    if line.get("risk") or line.get("kind") == "risk":
        if getattr(plan, "risk", False):
            return "relevant"
        if expect and given & expect:
            return "relevant"
        return "wrong"
    if not expect:
        if given:
            return "wrong"
        return "relevant" if (plan.uncovered in ("deny", "unsure") or plan.deflected_facts) else "deflected"
    if given & expect:
        return "relevant"
    if given:
        return "wrong"
    gated = [f for f in plan.deflected_facts if f in expect]
    return "gated" if gated else "deflected"


def run(banks: Path, packs: Path, grader: str = "trained", split: str | None = "test") -> dict:
    from server.config import Settings
    from server.engine.factory import build_engine

    engine = build_engine(Settings(persona_dir=packs, grader=grader))
    out = {}
    for bank in sorted(banks.glob("*.jsonl")):
        pack_id = bank.stem
        lines = [json.loads(x) for x in bank.read_text(encoding="utf-8").splitlines() if x.strip()]
        pack = engine.pack(pack_id)
        verdicts, rows, scripts = Counter(), [], {}
        for i, line in enumerate(lines):
            if split and line.get("split", "test") != split:
                continue
            script = line.get("session")
            if script:
                state = scripts[script] if script in scripts else engine.start(pack_id)[0]
            else:
                state, _ = engine.start(pack_id)
                if line.get("kind") == "followup" and i:
                    _, state = engine.respond(state, lines[i - 1]["q"])
            result, after = engine.respond(state, line["q"])
            if script:
                scripts[script] = after
            v = judge(line, result, pack)
            verdicts[v] += 1
            rows.append({"q": line["q"], "kind": line.get("kind"), "expect": line.get("expect"), "verdict": v,
                         "facts": result.plan.facts, "reply": result.reply})
        n = len(rows)
        out[pack_id] = {"n": n, **{k: verdicts[k] for k in ("relevant", "gated", "deflected", "wrong")},
                        "relevant_share": round(verdicts["relevant"] / n, 3),
                        "relevant_or_gated_share": round((verdicts["relevant"] + verdicts["gated"]) / n, 3),
                        "wrong_share": round(verdicts["wrong"] / n, 3), "rows": rows,
                        "scripts": {sid: {"trust_change": round(st.emotional.trust - pack.emotion.baseline.trust, 3),
                                          "distress_change": round(st.emotional.distress - pack.emotion.baseline.distress, 3)}
                                    for sid, st in scripts.items()}}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--banks", type=Path, default=REPO / "eval" / "question_banks")
    ap.add_argument("--packs", type=Path, default=REPO / "persona_packs")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--show", choices=("none", "misses", "all"), default="none")
    ap.add_argument("--grader", default="trained", choices=("trained", "rules"))
    ap.add_argument("--split", default="test", choices=("test", "dev", "all"),
                    help="bank split (eval/question_banks/README.md): test for reported figures, dev for development")
    a = ap.parse_args(argv)
    res = run(a.banks, a.packs, a.grader, None if a.split == "all" else a.split)
    tot = Counter()
    print(f"{'pack':28s} {'n':>4s} {'relevant':>9s} {'+gated':>7s} {'deflect':>8s} {'wrong':>6s}")
    for pid, r in res.items():
        tot.update({k: r[k] for k in ("n", "relevant", "gated", "deflected", "wrong")})
        print(f"{pid:28s} {r['n']:4d} {r['relevant_share']:9.1%} {r['relevant_or_gated_share']:7.1%} "
              f"{r['deflected'] / r['n']:8.1%} {r['wrong_share']:6.1%}")
        if a.show != "none":
            for row in r["rows"]:
                if a.show == "all" or row["verdict"] != "relevant":
                    print(f"    [{row['verdict']}] {row['kind']}: {row['q']} -> {row['facts']} (want {row['expect']}) | {row['reply'][:90]}")
    n = tot["n"]
    print(f"{'all':28s} {n:4d} {tot['relevant'] / n:9.1%} {(tot['relevant'] + tot['gated']) / n:7.1%} "
          f"{tot['deflected'] / n:8.1%} {tot['wrong'] / n:6.1%}   (targets: relevant >= 90%, wrong <= 3%)")
    for pid, r in res.items():
        for sid, ch in r["scripts"].items():
            print(f"script {sid}: trust {ch['trust_change']:+.2f}, distress {ch['distress_change']:+.2f} from baseline "
                  "(courteous history: within -0.05 / +0.10)")
    if a.json:
        a.json.write_text(json.dumps(res, indent=1), encoding="utf-8")
    targets = Targets()
    for pid, r in res.items():  # the targets hold on every pack
        targets.check(f"{pid} relevant >= 90%", r["relevant_share"] >= 0.90, f"{r['relevant_share']:.1%}")
        targets.check(f"{pid} wrong <= 3%", r["wrong_share"] <= 0.03, f"{r['wrong_share']:.1%}")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
