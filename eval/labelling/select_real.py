"""Choose the doctor turns to label from the real dialogues, and fix the split by dialogue.

Turns after a patient turn that voices an emotion, a cue or a concern are over-sampled (they
are what ECCS grades); routine turns are kept as controls. The split is a hash of the dialogue
id, fixed before any label or model exists, so it cannot be tuned.

    python -m eval.labelling.select_real --shared ../shared/data --out /tmp/candidates.jsonl

The output carries the words for the labellers; it is never committed (labels are kept by id).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys

from server.grading.dialogues import all_pairs

TEST_SHARE = 40  # percent of dialogues in the frozen test split

# Words that often carry an emotion, a cue or a concern in a patient's turn.
CUE = re.compile(
    r"\b(worr\w*|scar\w*|afraid|fear\w*|nervous|anxi\w*|stress\w*|depress\w*|down|sad|upset|cry\w*|"
    r"frustrat\w*|angry|mad|annoy\w*|embarrass\w*|ashamed|lonely|alone|hard|difficult|tough|rough|struggl\w*|"
    r"tired|exhausted|overwhelm\w*|concern\w*|terrif\w*|panic\w*|can't sleep|cannot sleep|not sleeping|"
    r"passed away|died|death|lost my|divorce|job|work|afford|money|insurance|kids|wife|husband|mother|father|mom|dad|"
    r"pain|hurts?|killing me|miserable|awful|terrible|horrible|bad|crazy|don't know|not sure|hope|wish|"
    r"weird|strange|bother\w*|feel\w*|felt|thought|think|sure it's nothing|just want|can't|unable|hate|"
    r"cancer|heart attack|serious|dying|family history)\b", re.I)
STRONG = re.compile(
    r"\b(worr\w*|scar\w*|afraid|fear\w*|nervous|anxi\w*|stress\w*|depress\w*|sad|upset|cry\w*|frustrat\w*|"
    r"angry|embarrass\w*|ashamed|lonely|overwhelm\w*|concern\w*|terrif\w*|panic\w*|miserable|passed away|died|"
    r"hard time|difficult|tough|struggl\w*|killing me|awful|terrible|horrible|hate|cancer|dying)\b", re.I)


def split_of(dialogue: str) -> str:
    h = int(hashlib.sha1(dialogue.encode()).hexdigest()[:8], 16)
    return "test" if h % 100 < TEST_SHARE else "train"


def score(text: str) -> int:
    return 3 * len(STRONG.findall(text)) + len(CUE.findall(text))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", required=True, help="the shared data folder (holds aci-bench/ and mts-dialog/)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--enriched", type=int, default=1300, help="turns after the most cue-laden patient turns")
    ap.add_argument("--controls", type=int, default=500, help="routine turns drawn at random")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    pairs = [p for p in all_pairs(a.shared) if 2 <= len(p.reply.split()) <= 80 and len(p.patient.split()) <= 120]
    rng = random.Random(a.seed)
    rng.shuffle(pairs)
    strong = [p for p in pairs if STRONG.search(p.patient)]
    weak = sorted((p for p in pairs if not STRONG.search(p.patient) and CUE.search(p.patient)),
                  key=lambda p: -score(p.patient))
    chosen = strong[: a.enriched]
    chosen += weak[: max(0, a.enriched - len(chosen))]
    taken = {p.id for p in chosen}
    rest = [p for p in pairs if p.id not in taken]
    chosen += rest[: a.controls]
    rng.shuffle(chosen)
    with open(a.out, "w", encoding="utf-8") as fh:
        for p in chosen:
            fh.write(json.dumps({"id": p.id, "split": split_of(p.dialogue),
                                 "before": [f"{t.speaker}: {t.text}" for t in p.before],
                                 "patient": p.patient, "reply": p.reply}) + "\n")
    n_test = sum(split_of(p.dialogue) == "test" for p in chosen)
    print(f"{len(chosen)} candidates ({len(strong)} strong-cue turns available), test {n_test}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
