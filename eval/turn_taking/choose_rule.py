"""Choose the end-of-turn combination rule on the DEV half of the turn-taking set (issue 18).

For every dev utterance it computes what the semantic detector would see 160 ms into a silence:
- at the pause of an utterance with one (kinds `pause`, `trailing`): the first segment's audio
  and its transcript (the product's Whisper), which must NOT end the turn;
- at the end of every utterance: the whole audio and transcript, which should end it soon.
Each is scored by the text judge and the acoustic judge (smart-turn), and a grid of policies
(text weight, threshold at 160 ms, threshold at the longest pause) is replayed on those
probabilities with `EndOfTurnPolicy.decide`, 32 ms VAD window by window: a cut-in is an end
before the pause is over; the wait is when a finished utterance would end.

The test half is never read here: it is only for `eval/bench/bench_turn_taking.py --split test`,
after the rule is fixed.

    .venv/bin/python eval/turn_taking/choose_rule.py [--voice espeak|piper --audio-dir DIR] [--cache F]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from eval.bench.percentile import percentile  # noqa: E402
from server.speech.end_of_turn.policy import EndOfTurnPolicy  # noqa: E402

SET = REPO / "eval" / "turn_taking" / "utterances.jsonl"
SPLIT = "dev"  # the only half a choice may be made on
LEAD_S, PROBE_S, WINDOW_MS = 0.3, 0.16, 32
FIRST_SEGMENT = REPO / "eval" / "turn_taking" / "first_segment.jsonl"  # is the first segment a whole utterance


def segments_of(items: list[dict], voice: str, audio_dir: Path | None) -> dict[str, list[np.ndarray]]:
    """Each utterance's segment audio, made exactly as the benchmark makes it."""
    if voice == "piper":
        from eval.bench.bench_turn_taking import wav_segments
        return wav_segments(items, audio_dir)
    from tests.voice_audio import speech
    return {u["id"]: [speech(s, voice=u["voice"], speed=u["speed"]) for s in u["segments"]] for u in items}


def signals(items: list[dict], voice: str, audio_dir: Path | None) -> list[dict]:
    from server.config import Settings
    from server.speech.asr.factory import build_transcriber
    from server.speech.end_of_turn.smart_turn import SmartTurnModel
    from tests.voice_audio import silence

    settings = Settings()
    asr, acoustic = build_transcriber(settings), SmartTurnModel()
    out = []
    clips = segments_of(items, voice, audio_dir)
    for u in items:
        segs = clips[u["id"]]
        probes = {"end": [silence(LEAD_S)] + sum(([s, silence(u["pause_s"] or 0)] for s in segs[:-1]), []) + [segs[-1]]}
        if len(segs) > 1:
            probes["pause"] = [silence(LEAD_S), segs[0]]
        row = {"id": u["id"], "kind": u["kind"], "pause_s": u["pause_s"]}
        for name, parts in probes.items():
            audio = np.concatenate(parts + [silence(PROBE_S)])
            words = asr.transcribe(audio, "en").text
            row[name] = {"text": words, "p_acoustic": acoustic.probability_complete_audio(audio)}
        out.append(row)
        print(f"  {u['id']:14s} " + "  ".join(f"{k}: {v['p_acoustic']:.2f} {v['text']!r}" for k, v in row.items()
                                            if isinstance(v, dict)), flush=True)
    return out


def judge_text(rows: list[dict]) -> str:
    """Score every cached transcript with the text judge as it is now (cheap, so never cached)."""
    from server.speech.end_of_turn.text_model import TextEndOfTurnModel

    model = TextEndOfTurnModel()
    sigs = [r[k] for r in rows for k in ("pause", "end") if k in r]
    for sig, p in zip(sigs, model.probabilities([s["text"] for s in sigs])):
        sig["p_text"] = float(p)
    return model.version


def end_after_ms(policy: EndOfTurnPolicy, p_text: float | None, p_acoustic: float | None) -> float:
    """Silence (ms) after which the policy ends the turn, replayed window by window."""
    s = 0.0
    while True:
        s += WINDOW_MS
        if policy.decide(s, text_p=p_text, acoustic_p=p_acoustic).end:
            return s


def score(rows: list[dict], policy: EndOfTurnPolicy, use: str) -> dict:
    pick = lambda sig: (sig["p_text"] if use in ("text", "both") else None,  # noqa: E731
                        sig["p_acoustic"] if use in ("acoustic", "both") else None)
    paused = [r for r in rows if "pause" in r]
    cuts = [r["id"] for r in paused if end_after_ms(policy, *pick(r["pause"])) < r["pause_s"] * 1000]
    mid = [r["id"] for r in paused if not r["first_is_sentence"]]
    waits = [end_after_ms(policy, *pick(r["end"])) for r in rows]
    complete = [end_after_ms(policy, *pick(r["end"])) for r in rows if r["kind"] == "complete"]
    return {"cut_in": len(cuts) / max(1, len(paused)), "cuts": cuts,
            "cut_in_mid": len(set(cuts) & set(mid)) / max(1, len(mid)), "wait_p50": percentile(waits, 50),
            "wait_p95": percentile(waits, 95), "complete_p95": percentile(complete, 95),
            "slow_complete": sum(w > 600 for w in complete) / max(1, len(complete))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--voice", default="espeak", choices=["espeak", "piper"])
    ap.add_argument("--audio-dir", type=Path)
    ap.add_argument("--cache", type=Path, help="signals json: read if present, else written")
    ap.add_argument("--top", type=int, default=30)
    a = ap.parse_args(argv)
    if a.voice == "piper" and a.audio_dir is None:
        ap.error("--voice piper needs --audio-dir (see eval/turn_taking/README.md)")
    if a.cache and a.cache.exists():
        rows = json.loads(a.cache.read_text())
    else:
        items = [u for u in map(json.loads, SET.read_text().splitlines()) if u["split"] == SPLIT]
        rows = signals(items, a.voice, a.audio_dir)
        if a.cache:
            a.cache.write_text(json.dumps(rows, indent=1))
    version = judge_text(rows)
    first = {r["id"]: r["first_segment"] for r in map(json.loads, FIRST_SEGMENT.read_text().splitlines())}
    for r in rows:
        r["first_is_sentence"] = first.get(r["id"]) == "complete"
    results = []
    for use in ("text", "acoustic", "both"):
        weights = {"text": [1.0], "acoustic": [0.0], "both": [0.25, 0.5, 0.75]}[use]
        for w, t0, t1 in itertools.product(weights, np.arange(0.4, 0.96, 0.05), np.arange(0.2, 0.96, 0.05)):
            if t1 > t0 + 1e-9:
                continue
            policy = EndOfTurnPolicy(threshold=round(t0, 2), threshold_at_max=round(t1, 2), text_weight=w)
            results.append((use, w, round(t0, 2), round(t1, 2), score(rows, policy, use)))
    print(f"\n{len(rows)} dev utterances, {sum('pause' in r for r in rows)} with a pause ({a.voice}); text judge {version}")
    mid = sum(not r["first_is_sentence"] for r in rows if "pause" in r)
    print(f"the Pareto front of cut-ins (all, and the {mid} whose first segment is unfinished) against complete utterances "
          "kept waiting over 600 ms:")
    print("signals  w_text  thr@160 thr@2000  cut-in  unfinished    wait p50/p95 (all)  complete p95  complete > 600 ms")
    front, best_slow = [], 2.0
    for r in sorted(results, key=lambda r: (r[4]["cut_in"], r[4]["slow_complete"], r[4]["wait_p50"])):
        if r[4]["slow_complete"] < best_slow - 1e-9:
            front.append(r)
            best_slow = r[4]["slow_complete"]
    for use, w, t0, t1, s in front[: a.top]:
        print(f"{use:8s} {w:5.2f}  {t0:6.2f}  {t1:7.2f}  {s['cut_in']:6.1%}  {s['cut_in_mid']:8.1%}    "
              f"{s['wait_p50']:5.0f}/{s['wait_p95']:5.0f} ms  {s['complete_p95']:8.0f} ms  {s['slow_complete']:6.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
