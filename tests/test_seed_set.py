"""The hand-written seed set for the empathy grader: schema, label consistency, coverage, split.

The rules checked here are the ones written out in server/grading/data/SEED_README.md. No
models are loaded; the whole module runs in about a second.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from server.config import REPO_ROOT
from server.core.emotions import compatible
from server.grading.base import ALL_FLAGS, ALL_NURSE, Flag, NurseType
from server.persona.loader import load_pack_file
from server.persona.schema import Emotion

SEED = REPO_ROOT / "server" / "grading" / "data" / "seed_labels.jsonl"
PACKS = REPO_ROOT / "persona_packs"

Family = Literal["fear", "sadness", "anger", "frustration", "shame", "guilt", "overwhelm", "loneliness", "calm", "relief"]
TEXT_FLAGS = tuple(f for f in ALL_FLAGS if f != "interrupted")  # 'interrupted' comes from the voice pipeline, never from text

MIN_ROWS = 480
MIN_PER_ECCS = 35
MIN_PER_NURSE = 40
MIN_PER_FLAG = 25
MIN_PER_QTYPE = 80
MIN_WRONG_NAME = 30
MIN_RIGHT_NAME = 60
MIN_TEST_PER_STRATUM = 5


class SeedEpitome(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    emotional_reactions: int = Field(ge=0, le=2)
    interpretations: int = Field(ge=0, le=2)
    explorations: int = Field(ge=0, le=2)


class SeedRow(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: str = Field(pattern=r"^s\d{4}$")
    persona: str = Field(min_length=1)
    context: str = Field(min_length=1)
    opportunity: Literal["explicit", "cue", "none"]
    emotion: Family
    response: str = Field(min_length=1)
    eccs: int | None = Field(ge=0, le=6)
    nurse: list[NurseType]
    flags: list[Flag]
    epitome: SeedEpitome
    space: Literal["provides", "reduces", "neutral"]
    question_type: Literal["open", "closed", "none"]
    named_emotion: Family | None
    empathic_accuracy: bool | None
    split: Literal["train", "test"]


def _load() -> list[dict]:
    return [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]


ROWS = _load()


def _pack_lines() -> dict[str, dict[str, tuple[str, str] | None]]:
    """Per pack: every line the patient can say -> (kind, emotion) for opportunity lines, else None."""
    out: dict[str, dict[str, tuple[str, str] | None]] = {}
    for path in sorted(PACKS.glob("*/persona.yaml")):
        pack = load_pack_file(path)
        lines: dict[str, tuple[str, str] | None] = {pack.visit.opening_line: None}
        for fact in pack.facts:
            for style in ("guarded", "neutral", "open"):
                lines[getattr(fact.answers, style)] = None
        for concern in pack.hidden_concerns:
            lines[concern.disclosure] = None
        for question in pack.patient_questions:
            lines[question.text] = None
        for kind in ("deny", "unsure", "deflect"):
            for line in getattr(pack.uncovered, kind):
                lines[line] = None
        for opp in pack.empathic_opportunities:
            lines[opp.line] = (opp.kind, opp.emotion.value)
        out[pack.id] = lines
    return out


# ---------------------------------------------------------------- per row


def row_problems(row: dict) -> list[str]:
    """Every rule from SEED_README.md that one row breaks (empty when the row is sound)."""
    try:
        SeedRow.model_validate(row)
    except ValueError as exc:
        return [f"schema: {exc}"]
    out = []

    def need(ok: bool, msg: str) -> None:
        if not ok:
            out.append(msg)

    eccs, flags, nurse, ep = row["eccs"], set(row["flags"]), set(row["nurse"]), row["epitome"]
    need(len(set(row["nurse"])) == len(row["nurse"]) and len(flags) == len(row["flags"]), "duplicate NURSE type or flag")
    need("interrupted" not in flags, "'interrupted' is a voice-pipeline flag, not a text label")
    # ECCS is graded only as a reply to an empathic opportunity
    need((eccs is None) == (row["opportunity"] == "none"), "eccs must be null exactly when opportunity is none")
    if "topic_switch" in flags:
        need(row["opportunity"] != "none" and eccs in (0, 1), "topic_switch needs an opportunity and ECCS 0 or 1")
    if eccs is not None:
        if flags & {"sympathy_only", "false_understanding", "assumption_or_stereotype"}:
            need(eccs <= 2, "pity, false understanding and stereotyping cap ECCS at 2")
        if "dismissive" in flags:
            need(eccs == 0, "dismissive means ECCS 0")
        if "premature_reassurance" in flags and "explore" not in nurse:
            need(eccs <= 2, "premature reassurance without exploring caps ECCS at 2")
        if eccs == 5:
            need("understand" in nurse, "legitimising (ECCS 5) is NURSE 'understand'")
        if eccs == 6:
            need(ep["interpretations"] == 2, "a shared feeling or experience (ECCS 6) is a strong interpretation")
        if eccs >= 3:
            need(row["space"] == "provides", "an acknowledgment (ECCS 3+) provides space")
        if eccs == 0:
            need(row["space"] == "reduces", "ECCS 0 reduces space")
        if row["empathic_accuracy"] is False:
            need(eccs <= 4, "a wrongly named feeling cannot be confirmed (5) or shared (6)")
    # named emotion and accuracy
    need((row["named_emotion"] is None) == (row["empathic_accuracy"] is None), "accuracy is null exactly when no emotion is named")
    need(("name" in nurse) == (row["named_emotion"] is not None), "NURSE 'name' exactly when an emotion is named")
    if row["named_emotion"] is not None:
        need(row["empathic_accuracy"] == compatible(row["named_emotion"], row["emotion"]), "accuracy disagrees with emotion families")
        need(ep["emotional_reactions"] >= 1, "naming a feeling is at least a weak emotional reaction")
    # EPITOME explorations need a question or an explicit invitation
    if "explore" in nurse:
        need(ep["explorations"] >= 1, "NURSE explore without EPITOME exploration")
    if ep["explorations"] and row["question_type"] == "none":
        need("explore" in nurse, "exploration without a question or invitation")
    # question type none exactly when the reply asks nothing
    if "?" in row["response"]:
        need(row["question_type"] != "none", "a question mark but question_type none")
    elif row["question_type"] != "none":
        need(any(w in row["response"].lower() for w in INVITATIONS), "question_type set but nothing is asked")
    need(2 <= len(row["response"].split()) <= 45, "responses are 2 to 45 words")
    return out


INVITATIONS = ("tell me", "go on", "say more", "talk me through", "describe")


def test_rows_match_schema_and_rules():
    bad = {r.get("id", i): p for i, r in enumerate(ROWS) if (p := row_problems(r))}
    assert not bad, bad


def test_checker_catches_broken_rows():
    good = next(r for r in ROWS if r["eccs"] == 4 and r["named_emotion"])
    assert row_problems(good) == []
    assert row_problems({**good, "extra": 1})  # strict keys
    assert row_problems({**good, "flags": ["interrupted"]})
    assert row_problems({**good, "flags": ["dismissive"]})  # ECCS 4 cannot be dismissive
    assert row_problems({**good, "opportunity": "none"})  # ECCS needs an opportunity
    assert row_problems({**good, "empathic_accuracy": None})
    assert row_problems({**good, "nurse": [t for t in good["nurse"] if t != "name"]})
    assert row_problems({**good, "question_type": "none"})


def test_pack_contexts_are_verbatim():
    packs = _pack_lines()
    for row in ROWS:
        if row["persona"] == "other":
            continue
        assert row["persona"] in packs, row["id"]
        lines = packs[row["persona"]]
        assert row["context"] in lines, f"{row['id']}: context is not a line of {row['persona']}"
        opp = lines[row["context"]]
        if opp is not None:  # the pack's own empathic opportunity lines carry their kind and emotion
            assert (row["opportunity"], row["emotion"]) == opp, row["id"]


# ---------------------------------------------------------------- whole set


def test_families_match_the_persona_schema():
    assert set(Family.__args__) == {e.value for e in Emotion}  # type: ignore[attr-defined]


def test_size_ids_and_unique_responses():
    assert len(ROWS) >= MIN_ROWS
    ids = [r["id"] for r in ROWS]
    assert len(set(ids)) == len(ids)
    responses = Counter(" ".join(r["response"].lower().split()) for r in ROWS)
    assert not [t for t, n in responses.items() if n > 1]


def test_context_mix():
    pack_share = sum(r["persona"] != "other" for r in ROWS) / len(ROWS)
    assert 0.5 <= pack_share <= 0.7
    opp = Counter(r["opportunity"] for r in ROWS)
    assert opp["explicit"] >= 100 and opp["cue"] >= 100 and opp["none"] >= 40


def test_coverage_minimums():
    eccs = Counter(r["eccs"] for r in ROWS if r["eccs"] is not None)
    nurse = Counter(t for r in ROWS for t in r["nurse"])
    flags = Counter(f for r in ROWS for f in r["flags"])
    qtype = Counter(r["question_type"] for r in ROWS)
    acc = Counter(r["empathic_accuracy"] for r in ROWS)
    assert all(eccs[level] >= MIN_PER_ECCS for level in range(7)), eccs
    assert all(nurse[t] >= MIN_PER_NURSE for t in ALL_NURSE), nurse
    assert all(flags[f] >= MIN_PER_FLAG for f in TEXT_FLAGS), flags
    assert qtype["open"] >= MIN_PER_QTYPE and qtype["closed"] >= MIN_PER_QTYPE, qtype
    assert acc[False] >= MIN_WRONG_NAME and acc[True] >= MIN_RIGHT_NAME, acc
    for mech in ("emotional_reactions", "interpretations", "explorations"):
        assert {r["epitome"][mech] for r in ROWS} == {0, 1, 2}
    assert {r["space"] for r in ROWS} == {"provides", "reduces", "neutral"}


def test_split_is_stratified():
    test = [r for r in ROWS if r["split"] == "test"]
    assert 0.2 <= len(test) / len(ROWS) <= 0.3
    eccs = Counter(r["eccs"] for r in test if r["eccs"] is not None)
    flags = Counter(f for r in test for f in r["flags"])
    assert all(eccs[level] >= MIN_TEST_PER_STRATUM for level in range(7)), eccs
    assert all(flags[f] >= MIN_TEST_PER_STRATUM for f in TEXT_FLAGS), flags
    assert Counter(r["empathic_accuracy"] for r in test)[False] >= MIN_TEST_PER_STRATUM
