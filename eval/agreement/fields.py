"""The grade fields a human can rate, how to read each from a Grade, and which statistic
suits it: ordinal fields get weighted kappa, Lin's CCC and within-one agreement; nominal
and 0/1 fields get plain kappa and exact agreement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel

from server.grading.base import ALL_FLAGS, ALL_NURSE, Grade

Kind = Literal["ordinal", "nominal", "binary"]


class FieldSpec(BaseModel):
    name: str
    kind: Kind
    categories: list[Any]

    def read(self, grade: Grade) -> Any:
        return READERS[self.name](grade)

    def parse(self, raw: str) -> Any:
        """A human's cell to a label; None for blank / not rated."""
        text = (raw or "").strip().lower()
        blank = {"", "na", "n/a", "null"} | ({"none"} if self.kind != "nominal" else set())  # 'none' is a question type
        if text in blank:
            return None
        if self.kind == "nominal":
            return text
        value = int(float(text))
        if value not in self.categories:
            raise ValueError(f"{self.name}: {raw!r} is not one of {self.categories}")
        return value


READERS: dict[str, Callable[[Grade], Any]] = {
    "eccs": lambda g: g.eccs,
    "question_type": lambda g: g.question_type,
    "space": lambda g: g.space,
    "epitome_emotional_reactions": lambda g: g.epitome.emotional_reactions,
    "epitome_interpretations": lambda g: g.epitome.interpretations,
    "epitome_explorations": lambda g: g.epitome.explorations,
    **{f"nurse_{n}": (lambda n: lambda g: int(n in g.nurse))(n) for n in ALL_NURSE},
    **{f"flag_{f}": (lambda f: lambda g: int(f in g.flags))(f) for f in ALL_FLAGS},
}

FIELDS: dict[str, FieldSpec] = {
    "eccs": FieldSpec(name="eccs", kind="ordinal", categories=list(range(7))),
    "question_type": FieldSpec(name="question_type", kind="nominal", categories=["open", "closed", "none"]),
    "space": FieldSpec(name="space", kind="nominal", categories=["provides", "reduces", "neutral"]),
    **{n: FieldSpec(name=n, kind="ordinal", categories=[0, 1, 2])
       for n in ("epitome_emotional_reactions", "epitome_interpretations", "epitome_explorations")},
    **{f"nurse_{n}": FieldSpec(name=f"nurse_{n}", kind="binary", categories=[0, 1]) for n in ALL_NURSE},
    **{f"flag_{f}": FieldSpec(name=f"flag_{f}", kind="binary", categories=[0, 1]) for f in ALL_FLAGS},
}

ALIASES = {"emotional_reactions": "epitome_emotional_reactions", "interpretations": "epitome_interpretations",
           "explorations": "epitome_explorations"}
"""Column names accepted for the EPITOME mechanisms besides the canonical ones."""

DEFAULT_THRESHOLDS = {"eccs": 3.0}
"""Pass/fail cut-offs reported as threshold accuracy (pass = at or above)."""
