"""Does the patient react like a person? Scripted learners through the real engine.

For every pack, three learner scripts written blind (eval/scripts_blind/: without reading the
packs' example questions) are played through `Engine.respond`, the path `bedside chat` takes:

  courteous   a polite history with no empathy: should end within -0.05 trust and +0.10
              distress of the pack's baseline (ordinary history-taking does not hurt)
  dismissive  curt and dismissive: should end at least 0.3 trust below the baseline (at most
              0.03 when the baseline is under 0.33)
  skilled     an empathic consultation: hidden concerns revealed; and over all skilled turns,
              verbatim repeats of an earlier reply, reuse of an earlier sentence of 4+ words, and
              content-free replies (no pack content) to an empathic statement

    .venv/bin/python eval/bench/bench_state.py [--scripts eval/scripts_blind] [--show]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from eval.bench.targets import Targets  # noqa: E402

CONTENT = ("facts", "concern", "opportunity", "patient_question", "risk", "uncovered", "correction", "deflected_facts")




def sentences(text: str) -> list[str]:
    return [s.strip().lower() for s in re.split(r"(?<=[.?!])\s+", text) if s.strip()]


def repetition(opening: str, results) -> dict:
    """Per reply: repeats an earlier reply word for word; reuses an earlier sentence of 4+ words;
    is content-free (no pack content planned) after an empathic statement."""
    seen_replies, seen_sents = {opening.strip().lower()}, set(s for s in sentences(opening) if len(s.split()) >= 4)
    verbatim = reuse = empathic = empty_after_empathy = 0
    for r in results:
        reply = r.reply.strip().lower()
        verbatim += reply in seen_replies
        long = [s for s in sentences(r.reply) if len(s.split()) >= 4]
        reuse += any(s in seen_sents for s in long)
        seen_replies.add(reply)
        seen_sents |= set(long)
        if r.act.value == "empathic_statement":
            empathic += 1
            plan = r.plan
            empty_after_empathy += not any(getattr(plan, k) for k in CONTENT)
    return {"replies": len(results), "verbatim": verbatim, "reuse4": reuse, "empathic": empathic, "content_free": empty_after_empathy}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scripts", type=Path, default=REPO / "eval" / "scripts_blind")
    ap.add_argument("--packs", type=Path, default=REPO / "persona_packs")
    ap.add_argument("--grader", default="trained", choices=("trained", "rules"))
    ap.add_argument("--show", action="store_true", help="print every turn")
    a = ap.parse_args(argv)
    from server.config import Settings
    from server.engine.factory import build_engine

    engine = build_engine(Settings(persona_dir=a.packs, grader=a.grader))
    packs = sorted({p.name.split(".")[0] for p in a.scripts.glob("*.txt")})
    rep_total = {"replies": 0, "verbatim": 0, "reuse4": 0, "empathic": 0, "content_free": 0}
    ok_courteous = ok_dismissive = concerns_packs = 0
    print(f"{'pack':26s} {'baseline':>11s} | {'courteous end (dT, dD)':>26s} | {'dismissive end (dT)':>20s} | skilled: concerns")
    for pid in packs:
        pack = engine.pack(pid)
        b = pack.emotion.baseline
        res = {}
        for kind in ("courteous", "dismissive", "skilled"):
            f = a.scripts / f"{pid}.{kind}.txt"
            lines = [x.strip() for x in f.read_text(encoding="utf-8").splitlines() if x.strip() and not x.startswith("#")]
            state, results, opening = engine.play(pid, lines)
            res[kind] = (state, opening, results)
            if a.show:
                print(f"--- {pid} {kind}")
                for r in res[kind][2]:
                    e = r.state_after
                    g = r.grade
                    print(f"  [{r.act.value}; eccs {g.eccs}; {','.join(g.flags) or '-'}; T {e.trust:.2f} D {e.distress:.2f}] "
                          f"{r.learner_text[:60]} -> {r.reply[:100]}")
        c, d = res["courteous"][0].emotional, res["dismissive"][0].emotional
        dt, dd = c.trust - b.trust, c.distress - b.distress
        cour_ok = dt >= -0.05 and dd <= 0.10
        need = max(0.03, b.trust - 0.3)
        dis_ok = round(d.trust, 2) <= need + 1e-9
        sk = res["skilled"][0]
        revealed = len(sk.revealed_concerns)
        ok_courteous += cour_ok
        ok_dismissive += dis_ok
        concerns_packs += revealed > 0
        rep = repetition(res["skilled"][1], res["skilled"][2])
        for k in rep_total:
            rep_total[k] += rep[k]
        print(f"{pid:26s} T{b.trust:.2f} D{b.distress:.2f} | T{c.trust:.2f} D{c.distress:.2f} ({dt:+.2f}, {dd:+.2f}) "
              f"{'ok' if cour_ok else 'MISS':>4s} | T{d.trust:.2f} (need <= {need:.2f}) {'ok' if dis_ok else 'MISS':>4s} | "
              f"{revealed}/{len(pack.hidden_concerns)} revealed")
    n = rep_total["replies"]
    print(f"\ncourteous within limits: {ok_courteous}/{len(packs)}; dismissive >= 0.3 below: {ok_dismissive}/{len(packs)}; "
          f"a hidden concern revealed in the skilled script: {concerns_packs}/{len(packs)}")
    print(f"skilled scripts, {n} replies: verbatim repeats {rep_total['verbatim'] / n:.1%} (target <= 1%), "
          f"reuse of a 4+ word sentence {rep_total['reuse4'] / n:.1%} (<= 10%), content-free replies to an empathic "
          f"statement {rep_total['content_free']}/{rep_total['empathic']} "
          f"= {rep_total['content_free'] / max(1, rep_total['empathic']):.1%} (<= 10%)")
    targets = Targets()
    targets.check("courteous history within -0.05 trust / +0.10 distress, every pack", ok_courteous == len(packs),
                  f"{ok_courteous}/{len(packs)}")
    targets.check("dismissive script >= 0.3 below baseline trust, every pack", ok_dismissive == len(packs),
                  f"{ok_dismissive}/{len(packs)}")
    targets.check("a hidden concern revealed in the skilled script, every pack but one", concerns_packs >= len(packs) - 1,
                  f"{concerns_packs}/{len(packs)}")
    targets.check("verbatim repeats <= 1%", rep_total["verbatim"] <= 0.01 * n, f"{rep_total['verbatim'] / n:.1%}")
    targets.check("reuse of a 4+ word sentence <= 10%", rep_total["reuse4"] <= 0.10 * n, f"{rep_total['reuse4'] / n:.1%}")
    targets.check("content-free replies to an empathic statement <= 10%",
                  rep_total["content_free"] <= 0.10 * max(1, rep_total["empathic"]), f"{rep_total['content_free']}/{rep_total['empathic']}")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
