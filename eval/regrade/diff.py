"""What changed between the stored grades and a re-grade, per turn, per session, overall."""

from __future__ import annotations

from collections import Counter
from statistics import fmean

from pydantic import BaseModel, Field

from server.grading.base import Grade

from ..agreement.stats import Confusion, cohen_kappa, confusion, exact_agreement

PASS_ECCS = 3


class TurnDiff(BaseModel):
    session_id: str
    turn: int
    learner_text: str
    old_eccs: int | None
    new_eccs: int | None
    eccs_shift: int | None
    """new - old when both exist."""
    flags_gained: list[str] = Field(default_factory=list)
    flags_lost: list[str] = Field(default_factory=list)
    nurse_gained: list[str] = Field(default_factory=list)
    nurse_lost: list[str] = Field(default_factory=list)
    other_changes: dict[str, list] = Field(default_factory=dict, description="field -> [old, new] for the rest.")
    old_feedback: str
    new_feedback: str

    @property
    def changed(self) -> bool:
        return bool(self.old_eccs != self.new_eccs or self.flags_gained or self.flags_lost or self.nurse_gained
                    or self.nurse_lost or self.other_changes)


class SessionDiff(BaseModel):
    session_id: str
    learner_id: str
    persona_id: str
    turns: int
    changed_turns: int
    old_mean_eccs: float | None
    new_mean_eccs: float | None
    old_missed: int
    new_missed: int
    eccs_up: int
    eccs_down: int
    flags_gained: dict[str, int]
    flags_lost: dict[str, int]
    nurse_gained: dict[str, int]
    nurse_lost: dict[str, int]


class RegradeSummary(BaseModel):
    old_versions: list[str]
    new_version: str
    sessions: int
    turns: int
    changed_turns: int
    changed_sessions: int
    old_mean_eccs: float | None
    new_mean_eccs: float | None
    eccs_exact_agreement: float | None
    eccs_weighted_kappa: float | None
    eccs_confusion: Confusion
    """Rows: stored ECCS ('None' = no opportunity), columns: re-graded."""
    sessions_crossing_pass: int
    """Sessions whose mean ECCS moves across the pass level (3) either way."""
    flags_gained: dict[str, int]
    flags_lost: dict[str, int]
    nurse_gained: dict[str, int]
    nurse_lost: dict[str, int]


_OTHER = ("question_type", "space", "named_emotion", "empathic_accuracy")


def turn_diff(session_id: str, turn: int, text: str, old: Grade, new: Grade) -> TurnDiff:
    other = {f: [getattr(old, f), getattr(new, f)] for f in _OTHER if getattr(old, f) != getattr(new, f)}
    for k, v in old.epitome.model_dump().items():
        if getattr(new.epitome, k) != v:
            other[f"epitome_{k}"] = [v, getattr(new.epitome, k)]
    shift = new.eccs - old.eccs if old.eccs is not None and new.eccs is not None else None
    return TurnDiff(
        session_id=session_id, turn=turn, learner_text=text, old_eccs=old.eccs, new_eccs=new.eccs, eccs_shift=shift,
        flags_gained=sorted(set(new.flags) - set(old.flags)), flags_lost=sorted(set(old.flags) - set(new.flags)),
        nurse_gained=sorted(set(new.nurse) - set(old.nurse)), nurse_lost=sorted(set(old.nurse) - set(new.nurse)),
        other_changes=other, old_feedback=old.feedback, new_feedback=new.feedback,
    )


def _mean(xs: list[int]) -> float | None:
    return round(fmean(xs), 3) if xs else None


def _count(diffs: list[TurnDiff], attr: str) -> dict[str, int]:
    return dict(Counter(x for d in diffs for x in getattr(d, attr)).most_common())


def session_diff(session_id: str, learner_id: str, persona_id: str, old: list[Grade], new: list[Grade],
                 diffs: list[TurnDiff]) -> SessionDiff:
    o = [g.eccs for g in old if g.eccs is not None]
    n = [g.eccs for g in new if g.eccs is not None]
    return SessionDiff(
        session_id=session_id, learner_id=learner_id, persona_id=persona_id, turns=len(diffs),
        changed_turns=sum(d.changed for d in diffs), old_mean_eccs=_mean(o), new_mean_eccs=_mean(n),
        old_missed=sum(e < PASS_ECCS for e in o), new_missed=sum(e < PASS_ECCS for e in n),
        eccs_up=sum((d.eccs_shift or 0) > 0 for d in diffs), eccs_down=sum((d.eccs_shift or 0) < 0 for d in diffs),
        flags_gained=_count(diffs, "flags_gained"), flags_lost=_count(diffs, "flags_lost"),
        nurse_gained=_count(diffs, "nurse_gained"), nurse_lost=_count(diffs, "nurse_lost"),
    )


def summary(old_versions: list[str], new_version: str, sessions: list[SessionDiff], diffs: list[TurnDiff]) -> RegradeSummary:
    both = [(d.old_eccs, d.new_eccs) for d in diffs if d.old_eccs is not None and d.new_eccs is not None]
    old_all = [d.old_eccs for d in diffs if d.old_eccs is not None]
    new_all = [d.new_eccs for d in diffs if d.new_eccs is not None]
    labels = [str(x) for x in range(7)] + ["None"]
    crossing = sum(1 for s in sessions if s.old_mean_eccs is not None and s.new_mean_eccs is not None
                   and (s.old_mean_eccs >= PASS_ECCS) != (s.new_mean_eccs >= PASS_ECCS))
    return RegradeSummary(
        old_versions=old_versions, new_version=new_version, sessions=len(sessions), turns=len(diffs),
        changed_turns=sum(d.changed for d in diffs), changed_sessions=sum(s.changed_turns > 0 for s in sessions),
        old_mean_eccs=_mean(old_all), new_mean_eccs=_mean(new_all),
        eccs_exact_agreement=exact_agreement([d.old_eccs for d in diffs], [d.new_eccs for d in diffs]) if diffs else None,
        eccs_weighted_kappa=cohen_kappa([a for a, _ in both], [b for _, b in both], "quadratic", list(range(7))),
        eccs_confusion=confusion([str(d.old_eccs) for d in diffs], [str(d.new_eccs) for d in diffs], labels),
        sessions_crossing_pass=crossing,
        flags_gained=_count(diffs, "flags_gained"), flags_lost=_count(diffs, "flags_lost"),
        nurse_gained=_count(diffs, "nurse_gained"), nurse_lost=_count(diffs, "nurse_lost"),
    )
