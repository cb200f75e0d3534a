"""The real-dialogue labels, and the experiment data made from them, keep the frozen split frozen
and ship no dataset text.

The files hold ids and labels (and, for counterfactuals, the project's own replies); the split
is a function of the dialogue id. Each check is a function returning what is wrong, run on the
shipped files and on a deliberately broken row, so every test can fail.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from eval.labelling.select_real import split_of
from server.config import REPO_ROOT
from server.grading.data_sources import REAL_DIR, RealLabel, shared_dir
from tests.ci import unless_ci

LABELS = REAL_DIR / "labels.jsonl"
EXPERIMENT = REPO_ROOT / "eval" / "experiments" / "counterfactuals"
MORE_LABELS = EXPERIMENT / "annomi_labels_FG.jsonl"
REPLIES = EXPERIMENT / "replies.jsonl"
RUN = 5  # words in a row that a written reply may not share with its dialogue


def _labels(path=LABELS) -> list[RealLabel]:
    return [RealLabel.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()]


def _replies() -> list[SimpleNamespace]:
    return [SimpleNamespace(**json.loads(line)) for line in REPLIES.read_text().splitlines() if line.strip()]


def label_problems(labels: list[RealLabel]) -> list[str]:
    """Ids labelled twice, labels on the wrong side of the split, and level/opportunity mismatches."""
    seen, out = set(), []
    for l in labels:
        if l.id in seen:
            out.append(f"{l.id}: labelled twice")
        seen.add(l.id)
        if l.split != split_of(l.id.rsplit("/", 1)[0]):
            out.append(f"{l.id}: split {l.split} is not its dialogue's")
        if l.usable and (l.eccs is None) != (l.opportunity == "none"):
            out.append(f"{l.id}: an opportunity needs a level, and only an opportunity has one")
    return out


def reply_problems(replies, labels: dict[str, RealLabel]) -> list[str]:
    """Counterfactuals must come from a train-side opportunity and differ from its real level."""
    out = []
    for c in replies:
        source = labels.get(c.source)
        if source is None or source.split != "train" or source.eccs is None:
            out.append(f"{c.source}: not a labelled train-side opportunity")
        elif c.eccs == source.eccs or (c.opportunity, c.emotion) != (source.opportunity, source.emotion):
            out.append(f"{c.source}: same level as the real reply, or another opportunity")
        if (c.space == "provides") != (c.eccs >= 3):
            out.append(f"{c.source}#{c.k}: space {c.space} does not fit level {c.eccs}")
    return out


def copied_runs(reply: str, dialogue_text: str, n: int = RUN) -> list[str]:
    """Runs of n words the reply shares with the dialogue's text."""
    words = lambda s: re.findall(r"[a-z']+", s.lower())  # noqa: E731
    source = f" {' '.join(words(dialogue_text))} "
    t = words(reply)
    return [" ".join(t[i:i + n]) for i in range(len(t) - n + 1) if f" {' '.join(t[i:i + n])} " in source]


def test_the_shipped_labels_have_no_problem_and_a_broken_row_is_caught():
    labels = _labels() + _labels(MORE_LABELS)
    assert label_problems(labels) == []
    test_item = next(l for l in labels if l.split == "test")
    moved = test_item.model_copy(update={"id": test_item.id + "x", "split": "train"})
    levelled = test_item.model_copy(update={"id": test_item.id + "y", "opportunity": "none", "eccs": 3})
    assert len(label_problems([moved, levelled])) == 2


def test_the_frozen_test_split_holds_what_was_labelled_before_any_model_ran():
    """410 test opportunities were labelled before any model ran on them; later rounds only add
    train-side items (the experiment's AnnoMI labels too)."""
    test = [l for l in _labels() if l.split == "test" and l.usable]
    assert (len(test), sum(l.eccs is not None for l in test)) == (1380, 410)
    first = {l.id for l in _labels()}
    assert all(l.split == "train" and l.id not in first for l in _labels(MORE_LABELS))


def test_counterfactuals_come_only_from_train_side_opportunities():
    labels = {l.id: l for l in [*_labels(), *_labels(MORE_LABELS)]}
    replies = _replies()
    assert reply_problems(replies, labels) == []
    test_item = next(l for l in labels.values() if l.split == "test" and l.eccs is not None)
    bad = SimpleNamespace(source=test_item.id, k=1, eccs=(test_item.eccs + 1) % 6, opportunity=test_item.opportunity,
                          emotion=test_item.emotion, space="neutral")
    assert reply_problems([bad], labels) and "train-side" in reply_problems([bad], labels)[0]


def test_counterfactual_replies_copy_no_run_of_dialogue_text():
    """The replies are the project's own words: none shares five words in a row with its dialogue
    (AnnoMI's text may not be redistributed; the others' is not ours)."""
    assert copied_runs("so the pain started on monday", "The pain started on Monday morning.") == ["the pain started on monday"]
    shared = shared_dir()
    if not (shared / "aci-bench").is_dir() or not (shared / "annomi").is_dir():
        pytest.skip(unless_ci(f"the shared dialogues are not at {shared}: set BEDSIDE_SHARED_DATA to run this check"))
    from server.grading.dialogues import pairs_by_id

    replies = _replies()
    pairs = pairs_by_id(str(shared), sorted({c.source for c in replies}))
    copied = []
    for c in replies:
        p = pairs[c.source]
        text = " . ".join([p.reply, p.patient, *(t.text for t in p.before)])
        if runs := copied_runs(c.reply, text):
            copied.append((c.source, c.k, runs[0]))
    assert copied == []


def test_earlier_holds_what_the_patient_said_before_the_turn_and_nothing_after():
    """The benchmark grades a real reply as the engine would in a session: with the patient's
    earlier words (`GradeContext.earlier`: their first turn and up to eight recent ones), never
    their current turn."""
    shared = shared_dir()
    if not (shared / "aci-bench").is_dir() or not (shared / "annomi").is_dir():
        pytest.skip(unless_ci(f"the shared dialogues are not at {shared}; this check runs in CI and wherever "
                              f"BEDSIDE_SHARED_DATA points at them"))
    from server.grading.dialogues import earlier_by_id, load_annomi, load_dialogues, pairs_by_id

    late = [l for l in _labels() if l.eccs is not None and not l.id.startswith("annomi/") and int(l.id.rsplit("/", 1)[-1]) >= 30]
    ids = [next(l.id for l in late if l.id.startswith(s)) for s in ("aci/", "mts/")]
    ids.append(next(l.id for l in _labels() if l.eccs is not None and l.id.startswith("annomi/")))
    earlier, pairs = earlier_by_id(str(shared), ids), pairs_by_id(str(shared), ids)
    for pid in ids:
        did, _, last = pid.rpartition("/")
        if pid.startswith("annomi/"):
            items = load_annomi(str(shared))[did]
            turns, at = [t for _, t in items], next(n for n, (uid, _) in enumerate(items) if uid == last)
        else:
            turns, at = load_dialogues(str(shared))[did], int(last)
        said = [t.text for t in turns[:at - 1] if t.speaker == "patient" and t.text]
        assert turns[at - 1].text == pairs[pid].patient  # the turn being answered sits at at - 1
        assert earlier[pid] == " ".join(said[:1] + said[1:][-8:]), pid
    assert any(len(earlier[pid].split()) > 0 for pid in ids)  # the chosen ids have earlier words at all
