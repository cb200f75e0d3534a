"""The `Grader` interface. The grade it returns and its context are plain values in
`server.core.grade`, re-exported here as the grading package's public names.

Fields follow the published schemes summarised in docs/grading.md: ECCS (Bylund & Makoul
2002), NURSE (VitalTalk), EPITOME (Sharma et al. 2020), VR-CoDES space (Zimmermann 2011).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..core.grade import (ALL_FLAGS, ALL_NURSE, NEGATIVE_FLAGS, TEXT_FLAGS, Confidence, Epitome, Flag, Grade,  # noqa: F401
                          GradeContext, NurseType)


@runtime_checkable
class Grader(Protocol):
    """Grades one learner turn. `grade` is all a grader must write; the rest has defaults for
    one with nothing to prepare. A grader that encodes text overrides them: `prefetch` starts on
    the patient's words as soon as they are said (the next turn is graded against them), and
    when `embedder_name` is the engine's retrieval embedder, `reply_vector` hands retrieval the
    learner turn's vector so it is encoded once."""

    version: str
    embedder_name: str | None = None

    def grade(self, text: str, ctx: GradeContext) -> Grade: ...

    def prefetch(self, patient_turn: str) -> None:
        return None

    def reply_vector(self, text: str, context: str = ""):
        """The turn's embedding in `embedder_name`'s space (a numpy vector)."""
        return None
