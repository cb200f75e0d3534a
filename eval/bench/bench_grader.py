"""Benchmark of the trained empathy grader: four sections, figures measured on this machine.

1. EPITOME-dev, 5-fold cross-validation grouped by seeker post: accuracy, macro-F1 and
   quadratic-weighted kappa per mechanism, with the published anchors beside them.
2. The seed set's held-out test split (never trained on): per-flag precision/recall, ECCS
   QWK, NURSE per-type F1, and the rule grader on the same rows for comparison.
3. Robustness to ASR: the doctor turns of aci-bench graded on the human(-corrected) and the
   ASR transcript of the same encounter, aligned turn by turn; how often the ECCS-free grade
   (NURSE set, flags, question type, EPITOME) changes.
4. Speed and memory: per-turn grading time p50/p95 and the grader's resident memory.

Shared data comes from --shared / BEDSIDE_SHARED_DATA (default <repo>/../shared/data);
sections that need it are skipped with the reason when it is absent.

    .venv/bin/python eval/bench/bench_grader.py [--shared PATH] [--sections 1234] [--fold-seeds 0,1,2] [--max-asr-turns N]
"""

from __future__ import annotations

import argparse
import csv
import difflib
import re
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score, precision_score, recall_score

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from eval.bench.percentile import percentile  # noqa: E402
from server.grading.base import ALL_NURSE, GradeContext  # noqa: E402
from server.grading.data_sources import MECHANISMS, load_epitome, load_seed, shared_dir  # noqa: E402

ANCHORS = {  # Sharma et al. 2020 (RoBERTa, as reported) and a keyword rule; macro-F1
    "emotional_reactions": (0.75, 0.47), "interpretations": (0.63, 0.36), "explorations": (0.73, 0.56)}
TARGETS = {"emotional_reactions": 0.70, "interpretations": 0.60, "explorations": 0.70}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ------------------------------------------------------------------ 1. EPITOME-dev

def section_epitome(shared: Path, fold_seeds: list[int]) -> None:
    from server.grading.rules import RuleGrader
    from server.grading.embedding_cache import EmbeddingCache
    from server.grading.encoder import SENT_LAYER
    from server.grading.epitome_train import (EPITOME_C, EPITOME_INNER_FOLDS, EPITOME_OFFSET_GRID, EPITOME_SENT_EMBED, EpitomeBlock,
                                              fit_epitome)
    from server.grading.linear_fit import grouped_folds

    print(f"\n== 1. EPITOME-dev: 5-fold CV grouped by seeker post (fold seed {fold_seeds[0]}"
          + (f"; then seeds {', '.join(map(str, fold_seeds[1:]))} and the mean)" if len(fold_seeds) > 1 else ")") + " ==")
    pairs = load_epitome(shared)
    if not pairs:
        print(f"SKIPPED: no epitome-dev under {shared}")
        return
    block = EpitomeBlock(pairs, EmbeddingCache())
    rules = RuleGrader()
    rule_pred = {m: [] for m in MECHANISMS}
    for p in pairs:
        g = rules.grade(p.response_post, GradeContext(patient_turn=p.seeker_post))
        for m in MECHANISMS:
            rule_pred[m].append(getattr(g.epitome, m))
    print(f"{len(pairs)} pairs, {len(set(p.sp_id for p in pairs))} seeker posts; model (epitome_train.fit_epitome, as shipped): mean of a "
          f"reply TF-IDF LR (hashed n-grams) (C={EPITOME_C['lex']}), a MiniLM+rules+relation LR (C={EPITOME_C['dense']}) and a sentence TF-IDF LR "
          f"(C={EPITOME_C['sent']}), plus for {', '.join(sorted(EPITOME_SENT_EMBED))} a MiniLM layer-{SENT_LAYER} sentence LR "
          f"(C={EPITOME_C['msent']}) and an attention pooling of its layer-{SENT_LAYER} token states (token_pool, trained with "
          f"the rationale tokens as an auxiliary target), class-balanced; per-class log offsets (grid {EPITOME_OFFSET_GRID[0]:g}..{EPITOME_OFFSET_GRID[-1]:g}) "
          f"chosen for macro-F1 on {EPITOME_INNER_FOLDS}-fold out-of-fold probabilities inside each training fold; "
          "hyperparameters fixed, vocabularies refit inside each fold")
    y = {m: np.array([p.levels[m] for p in pairs]) for m in MECHANISMS}

    def cross_validate(fold_seed: int):
        pred = {m: np.zeros(len(pairs), int) for m in MECHANISMS}
        plain = {m: np.zeros(len(pairs), int) for m in MECHANISMS}
        offsets = {m: [] for m in MECHANISMS}
        for tr, te in grouped_folds([p.sp_id for p in pairs], 5, seed=fold_seed):
            model = fit_epitome(block, tr, seed=0)
            for m in MECHANISMS:
                pred[m][te] = np.argmax(model.proba(m, *block.inputs(te)), axis=1)
                plain[m][te] = np.argmax(model.proba(m, *block.inputs(te), offsets=False), axis=1)
                offsets[m].append(model.offsets[m][1:])
        return pred, plain, offsets

    pred, plain, offsets = cross_validate(fold_seeds[0])
    print(f"{'mechanism':22s} {'acc':>6s} {'macroF1':>8s} {'QWK':>6s} {'weakF1':>6s} | {'target F1':>9s} {'RoBERTa F1':>10s} {'keyword F1':>10s} | "
          f"{'our rules F1':>12s} | {'no-offset F1':>12s}")
    for m in MECHANISMS:
        rob, kw = ANCHORS[m]
        print(f"{m:22s} {accuracy_score(y[m], pred[m]):6.3f} {f1_score(y[m], pred[m], average='macro'):8.3f} "
              f"{cohen_kappa_score(y[m], pred[m], weights='quadratic'):6.3f} {f1_score(y[m], pred[m], labels=[1], average='macro'):6.3f} | "
              f"{TARGETS[m]:9.2f} {rob:10.2f} {kw:10.2f} | {f1_score(y[m], rule_pred[m], average='macro'):12.3f} | "
              f"{f1_score(y[m], plain[m], average='macro'):12.3f}")
    print("offsets (weak, strong) chosen per fold: " + "; ".join(
        f"{m[:6]} " + " ".join(f"({a:+.1f},{b:+.1f})" for a, b in offsets[m]) for m in MECHANISMS))
    if len(fold_seeds) > 1:
        # one fold split is one draw: other shuffles of the seeker posts show how much the figure moves
        scores = {fold_seeds[0]: {m: f1_score(y[m], pred[m], average="macro") for m in MECHANISMS}}
        for fs in fold_seeds[1:]:
            other, _, _ = cross_validate(fs)
            scores[fs] = {m: f1_score(y[m], other[m], average="macro") for m in MECHANISMS}
        for fs, sc in scores.items():
            print(f"fold seed {fs}: macro-F1 " + " / ".join(f"{sc[m]:.3f}" for m in MECHANISMS))
        print(f"mean over fold seeds {', '.join(map(str, fold_seeds))}: macro-F1 "
              + " / ".join(f"{np.mean([sc[m] for sc in scores.values()]):.3f}" for m in MECHANISMS)
              + f"   (targets {' / '.join(f'{TARGETS[m]:.2f}' for m in MECHANISMS)})")


# ------------------------------------------------------------------ 2. seed test split

def section_seed(grader) -> None:
    from server.grading.rules import RuleGrader

    print("\n== 2. Seed set, held-out test split (never trained on) ==")
    rows = load_seed("test")
    rules = RuleGrader()
    graded = {"trained": [grader.grade(r.response, r.context_for_grading()) for r in rows],
              "rules": [rules.grade(r.response, r.context_for_grading()) for r in rows]}
    print(f"{len(rows)} rows; trained = {grader.version}")
    opp = [i for i, r in enumerate(rows) if r.eccs is not None]
    y = [rows[i].eccs for i in opp]
    for name, gs in graded.items():
        p = [gs[i].eccs for i in opp]
        print(f"ECCS ({len(opp)} opportunities) {name:8s} QWK {cohen_kappa_score(y, p, weights='quadratic'):.3f} "
              f"exact {accuracy_score(y, p):.3f} within-1 {np.mean(np.abs(np.array(y) - np.array(p)) <= 1):.3f}"
              + ("   (target QWK >= 0.75)" if name == "trained" else ""))
    print(f"{'flag':26s} {'n':>3s} {'P':>5s} {'R':>5s} | {'rules P':>7s} {'rules R':>7s}")
    from server.grading.base import TEXT_FLAGS
    for f in TEXT_FLAGS:
        yt = [f in r.flags for r in rows]
        cells = []
        for name in ("trained", "rules"):
            pt = [f in g.flags for g in graded[name]]
            cells += [precision_score(yt, pt, zero_division=0), recall_score(yt, pt, zero_division=0)]
        print(f"{f:26s} {sum(yt):3d} {cells[0]:5.2f} {cells[1]:5.2f} | {cells[2]:7.2f} {cells[3]:7.2f}")
    print(f"{'NURSE':26s} {'n':>3s} {'F1':>5s} | {'rules F1':>8s}")
    for t in ALL_NURSE:
        yt = [t in r.nurse for r in rows]
        f = [f1_score(yt, [t in g.nurse for g in graded[n]], zero_division=0) for n in ("trained", "rules")]
        print(f"{t:26s} {sum(yt):3d} {f[0]:5.2f} | {f[1]:8.2f}")
    for name, gs in graded.items():
        ep = " ".join(f"{m[:6]} {f1_score([getattr(r.epitome, m) for r in rows], [getattr(g.epitome, m) for g in gs], average='macro'):.3f}"
                      for m in MECHANISMS)
        print(f"{name:8s} space acc {np.mean([r.space == g.space for r, g in zip(rows, gs)]):.3f} | "
              f"question type acc {np.mean([r.question_type == g.question_type for r, g in zip(rows, gs)]):.3f} | "
              f"named emotion acc {np.mean([r.named_emotion == g.named_emotion for r, g in zip(rows, gs)]):.3f} | "
              f"accuracy-flag acc {np.mean([r.empathic_accuracy == g.empathic_accuracy for r, g in zip(rows, gs)]):.3f} | EPITOME macro-F1 {ep}")


def section_annomi(shared: Path) -> None:
    """The question-type rule (shared by every backend) against AnnoMI's expert codes."""
    from collections import Counter, defaultdict

    from server.core.questions import question_type

    path = shared / "annomi" / "AnnoMI-full.csv"
    if not path.exists():
        print(f"question type vs AnnoMI: SKIPPED (no {path})")
        return
    votes, text = defaultdict(list), {}
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["interlocutor"] != "therapist":
                continue
            key = (r["transcript_id"], r["utterance_id"])
            text[key] = r["utterance_text"]
            if r["question_subtype"] in ("open", "closed"):
                votes[key].append(r["question_subtype"])
            elif r["question_exists"] == "False":
                votes[key].append("none")
    gold = {k: Counter(v).most_common(1)[0][0] for k, v in votes.items() if Counter(v).most_common(1)[0][1] * 2 > len(v)}
    y = list(gold.values())
    p = [question_type(text[k]) for k in gold]
    asked = [(a, b) for a, b in zip(y, p) if a != "none"]
    print(f"question type vs AnnoMI expert codes ({len(y)} therapist utterances with a majority code): accuracy "
          f"{accuracy_score(y, p):.3f}, macro-F1 {f1_score(y, p, average='macro'):.3f}; on the {len(asked)} coded questions, "
          f"open/closed agreement {np.mean([a == b for a, b in asked]):.3f}")


# ------------------------------------------------------------------ 3. ASR robustness

_TURN = re.compile(r"\[(doctor|patient)\]")


def turns(dialogue: str) -> list[tuple[str, str]]:
    """(speaker, text) pairs; works on one-turn-per-line and on run-together transcripts."""
    parts = _TURN.split(dialogue)
    return [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2) if parts[i + 1].strip()]


def _with_context(ts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Doctor turns with the patient's previous turn as context."""
    out, last = [], ""
    for who, text in ts:
        if who == "patient":
            last = text
        else:
            out.append((text, last))
    return out


def align(a: list[str], b: list[str], threshold: float = 0.5) -> list[tuple[int, int]]:
    """Monotone turn alignment maximising word-level similarity (Needleman-Wunsch, no gap cost)."""
    sim = np.zeros((len(a), len(b)))
    wa, wb = [x.lower().split() for x in a], [x.lower().split() for x in b]
    for i in range(len(a)):
        for j in range(max(0, i - 40), min(len(b), i + 40)):
            sim[i, j] = difflib.SequenceMatcher(None, wa[i], wb[j], autojunk=False).ratio()
    score = np.zeros((len(a) + 1, len(b) + 1))
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            score[i, j] = max(score[i - 1, j], score[i, j - 1], score[i - 1, j - 1] + (sim[i - 1, j - 1] if sim[i - 1, j - 1] >= threshold else 0))
    pairs, i, j = [], len(a), len(b)
    while i and j:
        if sim[i - 1, j - 1] >= threshold and score[i, j] == score[i - 1, j - 1] + sim[i - 1, j - 1]:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif score[i, j] == score[i - 1, j]:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def _load_dialogues(path: Path) -> dict[str, str]:
    csv.field_size_limit(1 << 30)
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["id"]: r["dialogue"] for r in csv.DictReader(fh)}


def asr_pairs(shared: Path) -> dict[str, list[tuple[tuple[str, str], tuple[str, str]]]]:
    """source -> [((human text, context), (asr text, context))] for aligned doctor turns."""
    root = shared / "aci-bench" / "data" / "src_experiment_data"
    out: dict[str, list] = {"aci asrcorr vs asr": [], "virtscribe humantrans vs asr": []}
    for human_file in sorted(root.glob("*_aci_asrcorr.csv")):
        asr_file = root / human_file.name.replace("_asrcorr", "_asr")
        if not asr_file.exists():
            continue
        H, A = _load_dialogues(human_file), _load_dialogues(asr_file)
        for k in sorted(set(H) & set(A)):
            h, a = turns(H[k]), turns(A[k])
            if len(h) == len(a):  # same segmentation: align by position, doctor turns on both sides
                hc, ac = _with_context(h), _with_context(a)
                if len(hc) == len(ac):
                    out["aci asrcorr vs asr"] += list(zip(hc, ac))
    for human_file in sorted(root.glob("*_virtscribe_humantrans.csv")):
        asr_file = root / human_file.name.replace("_humantrans", "_asr")
        if not asr_file.exists():
            continue
        H, A = _load_dialogues(human_file), _load_dialogues(asr_file)
        for k in sorted(set(H) & set(A)):
            hc, ac = _with_context(turns(H[k])), _with_context(turns(A[k]))
            out["virtscribe humantrans vs asr"] += [(hc[i], ac[j]) for i, j in align([t for t, _ in hc], [t for t, _ in ac])]
    return out


def _fields(g) -> dict:
    return {"NURSE set": tuple(g.nurse), "flags": tuple(g.flags), "question type": g.question_type,
            "EPITOME": (g.epitome.emotional_reactions, g.epitome.interpretations, g.epitome.explorations)}


def section_asr(grader, shared: Path, max_turns: int) -> None:
    print("\n== 3. Robustness to ASR: doctor turns of aci-bench, human vs ASR transcript of the same encounter ==")
    root = shared / "aci-bench" / "data" / "src_experiment_data"
    if not root.exists():
        print(f"SKIPPED: no aci-bench under {shared}")
        return
    rng = np.random.RandomState(0)
    for source, pairs in asr_pairs(shared).items():
        if not pairs:
            print(f"{source}: no aligned turns")
            continue
        if len(pairs) > max_turns:
            pairs = [pairs[i] for i in sorted(rng.choice(len(pairs), max_turns, replace=False))]
        for same_context in (False, True):
            _asr_changes(grader, source, pairs, same_context)


def _asr_changes(grader, source: str, pairs, same_context: bool) -> None:
    """Grade each doctor turn from both transcripts. With `same_context` both are graded after the
    human transcript's patient turn, so only the doctor's own words differ (the ASR alignment
    otherwise also changes which patient words come before)."""
    changed = {k: 0 for k in ("NURSE set", "flags", "question type", "EPITOME")}
    any_change = differ = any_change_differ = 0
    buckets = {"word similarity >= 0.9": [0, 0], "0.7-0.9": [0, 0], "< 0.7": [0, 0]}
    for (ht, hctx), (at, actx) in pairs:
        gh = grader.grade(ht, GradeContext(patient_turn=hctx))
        ga = grader.grade(at, GradeContext(patient_turn=hctx if same_context else actx))
        fh, fa = _fields(gh), _fields(ga)
        diff = [k for k in fh if fh[k] != fa[k]]
        for k in diff:
            changed[k] += 1
        text_differs = " ".join(ht.lower().split()) != " ".join(at.lower().split())
        differ += text_differs
        any_change += bool(diff)
        any_change_differ += bool(diff) and text_differs
        sim = difflib.SequenceMatcher(None, ht.lower().split(), at.lower().split(), autojunk=False).ratio()
        b = buckets["word similarity >= 0.9" if sim >= 0.9 else "0.7-0.9" if sim >= 0.7 else "< 0.7"]
        b[0] += 1
        b[1] += bool(diff)
    n = len(pairs)
    per = ", ".join(f"{k} {v / n:.1%}" for k, v in changed.items())
    label = f"{source} (both after the human transcript's patient turn)" if same_context else source
    print(f"{label}: {n} aligned doctor turns, text differs in {differ} ({differ / n:.1%}); grade changed in "
          f"{any_change} ({any_change / n:.1%}) [{per}]; among turns whose text differs: "
          f"{(any_change_differ / differ if differ else 0):.1%}")
    print("    grade changed by how alike the two texts are: " + "; ".join(
        f"{k}: {c}/{n} ({c / n:.1%})" for k, (n, c) in buckets.items() if n))


# ------------------------------------------------------------------ 4. speed and memory

def section_speed(grader, rss_before: float, rss_after: float) -> None:
    import torch

    from server.grading.artefact import MODEL_DIR

    print("\n== 4. Speed and memory ==")
    rows = load_seed("test")
    grader.grade("warm up", GradeContext(patient_turn="Hello."))
    def timed(cold_context: bool) -> list[float]:
        out = []
        for r in rows:
            ctx = r.context_for_grading()
            grader._replies.clear()  # a reply never seen before
            if cold_context:
                grader.encoder._cache.clear()  # and a patient turn never seen before
            else:
                grader.prefetch(r.context)  # the engine encodes the patient's words when they are said
            t0 = time.perf_counter()
            grader.grade(r.response, ctx)
            out.append((time.perf_counter() - t0) * 1000)
        return out

    size = sum(p.stat().st_size for p in MODEL_DIR.iterdir() if p.is_file())
    offline = grader.encoder.offline_threads
    for label, cold, threads in (
            (f"in a session (patient turn encoded when said, as the engine does; {torch.get_num_threads()} torch thread(s))", False, offline),
            (f"cold (patient turn encoded inside the call, packed pass on {offline} threads)", True, offline),
            ("cold, packed pass on 1 thread (for comparison)", True, 1)):
        grader.encoder.offline_threads = threads
        t = timed(cold)
        print(f"per-turn grading, {len(t)} seed-test replies, {label}: p50 {percentile(t, 50):.1f} ms, "
              f"p95 {percentile(t, 95):.1f} ms, max {max(t):.1f} ms" + ("" if threads == 1 else " (target p95 <= 30 ms)"))
    grader.encoder.offline_threads = offline
    print("(the reply's MiniLM pass is shared with the engine's fact retrieval, which no longer embeds the turn itself)")
    grader.encoder._cache.clear()
    pairs = [(r.response, r.context_for_grading()) for r in rows]
    t0 = time.perf_counter()
    for i in range(0, len(pairs), 64):  # as `bedside grade --in` does
        grader.grade_many(pairs[i:i + 64])
    per = (time.perf_counter() - t0) * 1000 / len(pairs)
    print(f"batched, as `bedside grade --in` grades a file (64 rows at a time, cold, {offline} threads): {per:.1f} ms per turn")
    print(f"memory: process RSS {rss_before:.0f} MB before loading the grader, {rss_after:.0f} MB after "
          f"(+{rss_after - rss_before:.0f} MB: MiniLM + heads); artefact on disk {size / 1024:.0f} KiB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", help="shared data folder (env BEDSIDE_SHARED_DATA)")
    ap.add_argument("--sections", default="1234")
    ap.add_argument("--fold-seeds", default="0,1,2",
                    help="EPITOME-dev fold shuffles: the first gets the full table, all of them the mean macro-F1")
    ap.add_argument("--max-asr-turns", type=int, default=600, help="sample at most this many aligned turns per source")
    args = ap.parse_args(argv)
    shared = shared_dir(args.shared)
    import torch

    torch.set_num_threads(2)
    before = rss_mb()
    from server.grading.trained import TrainedGrader

    grader = TrainedGrader()
    grader.grade("warm up", GradeContext(patient_turn="Hello."))
    after = rss_mb()
    print(f"grader {grader.version}; shared data {shared}{'' if shared.exists() else ' (absent)'}")
    if "1" in args.sections:
        section_epitome(shared, [int(x) for x in args.fold_seeds.split(",")])
    if "2" in args.sections:
        section_seed(grader)
        section_annomi(shared)
    if "3" in args.sections:
        section_asr(grader, shared, args.max_asr_turns)
    if "4" in args.sections:
        section_speed(grader, before, after)
    return 0


if __name__ == "__main__":
    sys.exit(main())
