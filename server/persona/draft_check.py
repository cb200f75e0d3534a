"""Validate a pack being edited (JSON from the case editor's form, or YAML text) the same way
the loader validates a file, collecting the problems instead of raising them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .loader import MAX_DEPTH, MAX_PACK_BYTES, PackError, Problem, _plain, parse_pack_text, validate_pack_doc
from .schema import PersonaPack

DRAFT = "(draft)"


@dataclass
class DraftCheck:
    pack: PersonaPack | None = None
    data: dict[str, Any] | None = None           # plain data (parsed from YAML, or as sent)
    problems: list[Problem] = field(default_factory=list)
    from_yaml: bool = False


def _depth(value, limit: int, level: int = 0) -> bool:
    """True when `value` nests deeper than `limit` (the loader refuses such YAML too)."""
    if level > limit:
        return True
    if isinstance(value, dict):
        return any(_depth(v, limit, level + 1) for v in value.values())
    if isinstance(value, list):
        return any(_depth(v, limit, level + 1) for v in value)
    return False


def check_draft(*, data: dict | None = None, yaml: str | None = None, case_id: str | None = None) -> DraftCheck:
    """Schema and reference problems of a draft; `case_id`, when given, must be the pack's id."""
    out = DraftCheck(from_yaml=yaml is not None)
    if yaml is not None:
        try:
            doc = parse_pack_text(yaml, DRAFT)
        except PackError as exc:
            out.problems = exc.problems
            return out
    else:
        if len(json.dumps(data)) > MAX_PACK_BYTES or _depth(data, MAX_DEPTH):
            out.problems = [Problem(DRAFT, 1, "(top level)", f"the draft is over {MAX_PACK_BYTES:,} bytes or nested more "
                                    f"than {MAX_DEPTH} levels", "a pack holds lines of dialogue: shorten it")]
            return out
        doc = data
    out.data = _plain(doc)
    try:
        out.pack = validate_pack_doc(doc, DRAFT)
    except PackError as exc:
        out.problems = exc.problems
    if out.pack is not None and case_id is not None and out.pack.id != case_id:
        out.problems.append(Problem(DRAFT, 1, "id", f"the id '{out.pack.id}' is not this case's id '{case_id}'",
                                    f"set id: {case_id}, or save it as a new case"))
        out.pack = None
    return out
