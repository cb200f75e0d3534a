"""Persona fidelity of each realiser on the probe suite (eval/probes/*.jsonl).

Every probe starts a fresh session of its persona, plays its scripted context turns and
then the probe turn through the real engine (MiniLM retrieval, rule grader, planner). The
context turns are worded by the template realiser, so every realiser answers the probe
from the same state; only the probe turn is worded by the realiser under test.

Printed side by side for each realiser:
  contradicts/invents  reply states a number absent from the pack, restates a pack line with
                       its negation flipped, or names medical content (drug, diagnosis,
                       symptom, body part, test, person, event) that appears nowhere in the pack
  gated leaks          a gated fact or hidden concern not yet disclosed, whose distinctive
                       words (2+ words, or a number, found in no ungated pack line) appear
  voice patterns       no AI or instruction talk, no doctor's voice, no stage directions or
                       role labels, no third-person narration (the patient's name, "he feels"):
                       the grounding check's own patterns (server/realise/voice_rules.py),
                       so not an independent judge
  fallback             the model reply was rejected and the template reply used
  words, first sentence, full reply time, tokens/s
For model realisers the same judges are also applied to the raw model output, before the
grounding check, to show what the check removes. The in-character judge shares its voice
patterns with the grounding check, so its post-check figure is guaranteed by design; the
contradiction and leak judges are independent of it (pack-wide, not plan-based).

    .venv/bin/python eval/bench/bench_fidelity.py [--realisers template,transformers]
        [--openai-base-url http://127.0.0.1:8081/v1 --openai-model NAME] [--limit N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from eval.bench.percentile import percentile  # noqa: E402
from server.config import get_settings  # noqa: E402
from server.engine.factory import build_engine, build_realiser  # noqa: E402
from server.core.text import split_sentences  # noqa: E402
from server.realise import voice_rules as V  # noqa: E402
from server.realise.grounding import clean_generation, flips_negation, polar_lines  # noqa: E402
from server.realise.lexicon import content_stems, key_stems, medical_category, numbers, stem, tokens  # noqa: E402
from server.realise.template import TemplateRealiser, all_phrases  # noqa: E402

PROBES = REPO / "eval" / "probes"
CATEGORIES = ("on_script", "off_script", "diagnosis", "early_concern", "injection", "topic_change", "wrong_emotion")


def load_probes(limit: int | None = None) -> list[dict]:
    rows = []
    for f in sorted(PROBES.glob("*.jsonl")):
        rows += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    if limit:  # spread a short run over every persona and category
        by = defaultdict(list)
        for r in rows:
            by[(r["persona"], r["category"])].append(r)
        picked, i = [], 0
        while len(picked) < min(limit, len(rows)):
            for k in sorted(by):
                if i < len(by[k]) and len(picked) < limit:
                    picked.append(by[k][i])
            i += 1
        rows = picked
    return rows


# -- judges (independent of the per-plan grounding licence) ------------------------------------

def pack_lines(pack, gated: bool | None = None) -> list[str]:
    """Pack lines the patient can say; gated=True only gated ones, False only ungated ones."""
    out = []
    for f in pack.facts:
        is_gated = bool(f.gate.min_trust > 0 or f.gate.requires)
        if gated is None or gated == is_gated:
            out += [f.answers.guarded, f.answers.neutral, f.answers.open]
    if gated in (None, True):
        out += [c.disclosure for c in pack.hidden_concerns]
    if gated in (None, False):
        out += [pack.visit.opening_line] + [o.line for o in pack.empathic_opportunities] + [q.text for q in pack.patient_questions]
        out += [a for o in pack.empathic_opportunities for a in o.again]
        out += pack.uncovered.deny + pack.uncovered.unsure + pack.uncovered.deflect
        out += [pack.risk.self_harm, pack.risk.harm_to_others, pack.risk.safeguarding]
    return out


class Judge:
    def __init__(self, pack):
        self.pack = pack
        every = " ".join(pack_lines(pack))
        self.pack_numbers = numbers(every)
        self.pack_stems = {stem(w) for w in tokens(every)}
        self.pack_sentences = polar_lines(pack_lines(pack))
        ungated = {stem(w) for w in tokens(" ".join(pack_lines(pack, gated=False)))}
        ungated |= {stem(w) for p in all_phrases(pack) for w in tokens(p)}
        self.gated = []  # (kind, id, gate, distinctive stems, distinctive numbers)
        ungated_numbers = numbers(" ".join(pack_lines(pack, gated=False)))
        for f in pack.facts:
            if f.gate.min_trust > 0 or f.gate.requires:
                text = " ".join([f.answers.guarded, f.answers.neutral, f.answers.open])
                self.gated.append(("fact", f.id, f.gate, self._distinct(text, ungated), numbers(text) - ungated_numbers))
        for c in pack.hidden_concerns:
            self.gated.append(("concern", c.id, c.gate, self._distinct(c.disclosure, ungated), numbers(c.disclosure) - ungated_numbers))
        self.names = V.name_words(pack.identity.name)

    @staticmethod
    def _distinct(text: str, ungated: set[str]) -> set[str]:
        return {s for s in key_stems(text) if s not in ungated and len(s) > 2}

    def contradictions(self, text: str) -> list[str]:
        out = []
        for n in numbers(text) - self.pack_numbers:
            out.append(f"number {n} not in the pack")
        for w in tokens(text):
            cat = medical_category(w)
            if cat in ("drug", "diagnosis", "symptom", "body part", "care", "person", "event") and stem(w) not in self.pack_stems:
                out.append(f"{cat} '{w}' not in the pack")
        for s in split_sentences(text):
            if flips_negation(s, self.pack_sentences, shared=3):
                out.append(f"negation flipped: {s!r}")
        return out

    def leaks(self, text: str, state_after) -> list[str]:
        # words of what is already disclosed are no longer secret (family_history and the
        # father concern share "forty-seven", for instance)
        said = [t for f in self.pack.facts if f.id in state_after.disclosed_facts
                for t in (f.answers.guarded, f.answers.neutral, f.answers.open)]
        said += [c.disclosure for c in self.pack.hidden_concerns if c.id in state_after.revealed_concerns]
        have = set(content_stems(text)) - set(content_stems(" ".join(said)))
        nums = numbers(text) - numbers(" ".join(said))
        out = []
        for kind, iid, gate, distinct, dnums in self.gated:
            said = iid in (state_after.disclosed_facts if kind == "fact" else state_after.revealed_concerns)
            if said:
                continue
            hit = have & distinct
            if len(hit) >= 2 or (nums & dnums):
                out.append(f"{kind} {iid}: {sorted(hit | (nums & dnums))}")
        return out

    def out_of_character(self, text: str) -> list[str]:
        out = []
        for name, pat in (("AI", V.AI_TALK), ("instructions", V.INSTRUCTION_TALK), ("stage direction", V.STAGE_DIRECTION),
                          ("label", V.ROLE_LABEL), ("narration", V.NARRATION)):
            m = pat.search(text)
            if m:
                out.append(f"{name}: {m.group(0).strip()!r}")
        for pat in V.DOCTOR_TALK:
            m = pat.search(text)
            if m:
                out.append(f"doctor: {m.group(0)!r}")
        words = tokens(text)
        if set(words) & self.names:
            out.append("names the patient")  # the patient narrated in the third person
        return out


# -- running ----------------------------------------------------------------------------------

def run_realiser(label: str, realiser, engine, probes: list[dict], verbose: bool) -> dict:
    template = engine.realiser
    rows = []
    t_start = time.perf_counter()
    for k, p in enumerate(probes):
        pack = engine.pack(p["persona"])
        judge = judges.setdefault(pack.id, Judge(pack))
        state, _ = engine.start(p["persona"])
        engine.realiser = template
        for line in p["context"]:
            _, state = engine.respond(state, line)
        engine.realiser = realiser
        try:
            r, after = engine.respond(state, p["probe"])
        finally:
            engine.realiser = template
        last = getattr(realiser, "last", None)
        model = getattr(realiser, "model", None)
        gen_s = getattr(model, "last_seconds", None) if model is not None and hasattr(model, "last_seconds") else None
        raw = clean_generation(last.raw) if last is not None and last.raw else None
        row = {
            "id": p["id"], "category": p["category"], "probe": p["probe"], "reply": r.reply, "realiser": r.realiser,
            "fallback": r.realiser.startswith("template(fallback"), "reason": r.fallback_reason, "raw": raw,
            "contradictions": judge.contradictions(r.reply), "leaks": judge.leaks(r.reply, after),
            "ooc": judge.out_of_character(r.reply), "words": len(tokens(r.reply)),
            "realise_ms": r.timings_ms.get("realise", 0.0),
            "first_sentence_ms": r.timings_ms.get("realise_first_sentence", r.timings_ms.get("realise", 0.0)),
            "tokens": last.tokens if last is not None else 0,
            "gen_s": (gen_s if gen_s is not None else (last.timings_ms.get("generate", 0) / 1000 if last else 0)),
        }
        if raw is not None:
            row["raw_contradictions"] = judge.contradictions(raw)
            row["raw_leaks"] = judge.leaks(raw, after)
            row["raw_ooc"] = judge.out_of_character(raw)
        rows.append(row)
        if verbose:
            flag = "FALLBACK" if row["fallback"] else "ok"
            print(f"[{label} {k + 1}/{len(probes)}] {p['id']} {flag}: {r.reply!r}"
                  + (f"\n      raw: {raw!r}\n      why: {r.fallback_reason}" if row["fallback"] else ""), flush=True)
    return {"label": label, "rows": rows, "seconds": time.perf_counter() - t_start}


judges: dict[str, Judge] = {}


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else "-"


def summarise(res: dict) -> dict:
    rows = res["rows"]
    n = len(rows)
    model = any(r["raw"] is not None for r in rows)
    s = {
        "probes": n,
        "contradicts/invents": pct(sum(bool(r["contradictions"]) for r in rows), n),
        "gated leaks": pct(sum(bool(r["leaks"]) for r in rows), n),
        "passes the check's own voice patterns (not independent)": pct(sum(not r["ooc"] for r in rows), n),
        "fallback": pct(sum(r["fallback"] for r in rows), n) if model else "-",
        "words (mean)": f"{statistics.mean(r['words'] for r in rows):.1f}",
        "first sentence p50 ms": f"{percentile([r['first_sentence_ms'] for r in rows], 50):.0f}",
        "first sentence p95 ms": f"{percentile([r['first_sentence_ms'] for r in rows], 95):.0f}",
        "full reply p50 ms": f"{percentile([r['realise_ms'] for r in rows], 50):.0f}",
        "tokens/s": "-",
    }
    toks = sum(r["tokens"] for r in rows)
    secs = sum(r["gen_s"] or 0 for r in rows)
    if model and secs > 0:
        s["tokens/s"] = f"{toks / secs:.1f}"
    if model:
        raws = [r for r in rows if r["raw"] is not None]
        s["raw: contradicts/invents"] = pct(sum(bool(r["raw_contradictions"]) for r in raws), len(raws))
        s["raw: gated leaks"] = pct(sum(bool(r["raw_leaks"]) for r in raws), len(raws))
        s["raw: passes the check's own voice patterns"] = pct(sum(not r["raw_ooc"] for r in raws), len(raws))
    return s


def print_table(summaries: dict[str, dict]) -> None:
    keys = list(dict.fromkeys(k for s in summaries.values() for k in s))
    labels = list(summaries)
    w0 = max(len(k) for k in keys) + 2
    w = max(14, *(len(lbl) + 2 for lbl in labels))
    print("".ljust(w0) + "".join(lbl.rjust(w) for lbl in labels))
    for k in keys:
        print(k.ljust(w0) + "".join(str(summaries[lbl].get(k, "-")).rjust(w) for lbl in labels))


def print_categories(results: dict[str, dict]) -> None:
    print("\nfallback / contradicts / leaks / out of character, by category (final replies):")
    labels = list(results)
    print("category".ljust(16) + "".join(lbl.rjust(26) for lbl in labels))
    for cat in CATEGORIES:
        cells = []
        for lbl in labels:
            rows = [r for r in results[lbl]["rows"] if r["category"] == cat]
            if not rows:
                cells.append("-".rjust(26))
                continue
            f = sum(r["fallback"] for r in rows)
            c = sum(bool(r["contradictions"]) for r in rows)
            lk = sum(bool(r["leaks"]) for r in rows)
            o = sum(bool(r["ooc"]) for r in rows)
            cells.append(f"{len(rows)}: {f}/{c}/{lk}/{o}".rjust(26))
        print(cat.ljust(16) + "".join(cells))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--realisers", default="template,transformers")
    ap.add_argument("--openai-base-url", help="also bench the openai realiser against this endpoint")
    ap.add_argument("--openai-model")
    ap.add_argument("--limit", type=int, help="run only N probes, spread over personas and categories")
    ap.add_argument("--json", help="write every reply and verdict here")
    ap.add_argument("--grader", choices=["rules", "trained", "judge"], help="grader behind the plans (default: settings)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)

    settings = get_settings(realiser="template", grader=args.grader)
    print(f"grader: {settings.grader}")
    engine = build_engine(settings)
    engine.warm()
    probes = load_probes(args.limit)
    names = [n.strip() for n in args.realisers.split(",") if n.strip()]
    if args.openai_base_url and "openai" not in names:
        names.append("openai")
    print(f"{len(probes)} probes, {len({p['persona'] for p in probes})} personas; realisers: {', '.join(names)}")
    results = {}
    for name in names:
        if name == "template":
            realiser = TemplateRealiser()
        else:
            s = settings.with_overrides(realiser=name, realiser_openai_base_url=args.openai_base_url,
                                        realiser_openai_model=args.openai_model)
            realiser = build_realiser(s)
            t0 = time.perf_counter()
            getattr(realiser, "warm", lambda: None)()
            print(f"{name}: ready in {time.perf_counter() - t0:.1f} s")
        results[name] = run_realiser(name, realiser, engine, probes, args.verbose)
        print(f"{name}: {len(probes)} probes in {results[name]['seconds']:.0f} s", flush=True)
    summaries = {k: summarise(v) for k, v in results.items()}
    print()
    print_table(summaries)
    print_categories(results)
    for lbl, res in results.items():
        reasons = Counter()
        for r in res["rows"]:
            if r["fallback"] and r["reason"]:
                for part in r["reason"].replace("stopped early: ", "").split("; "):
                    reasons[re.sub(r"[:(].*", "", part).strip()] += 1
        if reasons:
            print(f"\n{lbl}: most common rejection reasons (a reply can have several)")
            for why, c in reasons.most_common(8):
                print(f"  {c:4d}  {why}")
    bad = [(lbl, r) for lbl, res in results.items() for r in res["rows"] if r["contradictions"] or r["leaks"] or r["ooc"]]
    if bad:
        print("\nfinal replies flagged by a judge:")
        for lbl, r in bad[:20]:
            print(f"  [{lbl}] {r['id']}: {r['reply']!r} -> {r['contradictions'] + r['leaks'] + r['ooc']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"summaries": summaries, "results": results}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
