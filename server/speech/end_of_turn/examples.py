"""Training examples from real dialogues: a whole utterance is complete, the same utterance cut
at a word boundary is not.

Sources (read from the shared data folder, never copied): ACI-BENCH and MTS-Dialog doctor and
patient turns (`grading.dialogues`), AnnoMI therapist and client turns. Choices:
- utterances of 3-40 words; AnnoMI turns marked as interrupted (ending in "-") are left out;
- in train and dev, each sentence (2+ words) of a turn of several sentences is an utterance too
  (added after the first model kept short empathic remarks waiting: "That sounds really hard."
  scored 0.36); the frozen test split is whole turns only, as frozen;
- a cut never falls right after a word ending in ".", "?" or "!": there the prefix is itself a
  finished sentence, and calling it unfinished would teach the model the wrong thing;
- each example is shown as written or in speech form (lowercase, no punctuation), half each;
- in train and dev, a cut shown as written ends the way Whisper ends a clipped phrase
  (`whisper_mark`): a cut question mostly with "?", other cuts with "...", "." or nothing. Added
  after the dev half of the turn-taking set showed Whisper writing "When did you first?" and
  "...and..." and the first models trusting any final "?"; the frozen test split is unmarked,
  as frozen;
- the split is by dialogue, by a hash of its id (test 20 %, dev 20 %, train 60 %), and every
  choice (which utterances, where to cut, which form) is a hash of the utterance's id, so the
  frozen test split is the same on every run and does not depend on the training seed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .features import speech_form

MIN_WORDS, MAX_WORDS = 3, 40
SENTENCE_MIN_WORDS = 2  # a single sentence of a longer turn: "I see." is one, "Okay." is not
SPLIT_SHARES = (("test", 2), ("dev", 2), ("train", 6))  # tenths of the dialogues
UTTERANCES_PER_SPLIT = {"train": 12000, "dev": 1000, "test": 1000}  # each gives two examples; train 4000 until eot-text-2
_SENTENCE_END = re.compile(r"[.?!]['\")]*$")


@dataclass(frozen=True)
class Example:
    id: str  # <dialogue>/<turn index>[/cut<k>]
    dialogue: str
    text: str
    complete: bool
    form: str  # written | speech


def _h(key: str) -> int:
    return int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big")


def split_of(dialogue: str) -> str:
    tenth = _h(f"eot-split:{dialogue}") % 10
    for name, share in SPLIT_SHARES:
        if tenth < share:
            return name
        tenth -= share
    raise AssertionError("shares add up to ten")


def utterances(shared: Path) -> list[tuple[str, str, str]]:
    """(utterance id, dialogue id, text) for every doctor or patient turn of usable length."""
    from ...grading.dialogues import load_annomi, load_dialogues

    out = []
    for did, turns in load_dialogues(str(shared)).items():
        out += [(f"{did}/{i}", did, t.text) for i, t in enumerate(turns) if t.speaker != "other"]
    for did, items in load_annomi(str(shared)).items():
        out += [(f"{did}/{uid}", did, t.text.lstrip("- ")) for uid, t in items if not t.text.rstrip().endswith("-")]
    return [(u, d, t) for u, d, t in out if MIN_WORDS <= len(t.split()) <= MAX_WORDS]


def cut_points(words: list[str]) -> list[int]:
    """Word counts k (1 <= k < len) at which the prefix is not already a finished sentence."""
    return [k for k in range(1, len(words)) if not _SENTENCE_END.search(words[k - 1])]


def whisper_mark(uid: str, text: str) -> str:
    """The final mark Whisper tends to put on a clipped phrase: a question keeps its "?" three
    times in four; anything else trails off ("...") or stops (".") two times in five each."""
    r = _h(f"eot-mark:{uid}") % 20
    if text.rstrip().endswith("?"):
        return "?" if r < 15 else ""
    return "..." if r < 8 else "." if r < 16 else ""


def examples_for(uid: str, did: str, text: str, marks: bool = False) -> list[Example]:
    words = text.split()
    form = lambda tag: "speech" if _h(f"eot-form:{uid}:{tag}") % 2 else "written"  # noqa: E731
    show = lambda t, f: speech_form(t) if f == "speech" else t  # noqa: E731
    f = form("whole")
    out = [Example(uid, did, show(text, f), True, f)]
    ks = cut_points(words)
    if ks:
        k = ks[_h(f"eot-cut:{uid}") % len(ks)]
        f = form("cut")
        cut = " ".join(words[:k])
        if marks and f == "written" and not cut.endswith((",", ";", ":", "-")):
            cut += whisper_mark(uid, text)
        out.append(Example(f"{uid}/cut{k}", did, show(cut, f), False, f))
    return out


def sentences_of(uid: str, did: str, text: str) -> list[tuple[str, str, str]]:
    """Each sentence of a turn of several, as an utterance of its own: a learner's turn is often
    one short sentence ("That sounds really frightening."), which whole dialogue turns rarely are."""
    from ...core.text import split_sentences

    parts = split_sentences(text)
    if len(parts) < 2:
        return []
    return [(f"{uid}/s{i}", did, p) for i, p in enumerate(parts) if SENTENCE_MIN_WORDS <= len(p.split()) <= MAX_WORDS]


def build_examples(shared: Path, split: str) -> list[Example]:
    """The examples of one split, in a fixed order; raises FileNotFoundError when data is missing.
    Train and dev also get single sentences of longer turns (`sentences_of`); the frozen test
    split stays whole turns, as it was frozen."""
    chosen = [u for u in utterances(shared) if split_of(u[1]) == split]
    chosen.sort(key=lambda u: _h(f"eot-pick:{u[0]}"))
    out = []
    for uid, did, text in chosen[:UTTERANCES_PER_SPLIT[split]]:
        marks = split != "test"
        out += [e for e in examples_for(uid, did, text, marks) if speech_form(e.text)]
        if marks:
            for sid, sdid, sentence in sentences_of(uid, did, text):
                out += [e for e in examples_for(sid, sdid, sentence, marks) if speech_form(e.text)]
    return out


def fingerprint(examples: list[Example]) -> str:
    """A hash of the examples' ids and labels (not their text), to show a split did not move."""
    return hashlib.sha1("\n".join(f"{e.id}\t{int(e.complete)}\t{e.form}" for e in examples).encode()).hexdigest()[:12]
