"""TODO markers left in a pack (in a value or a comment), each with the field it sits on.

Imported drafts (`bedside persona import`) validate with placeholder values; the marker is
what says a person still has to write them. `bedside persona check` reports each one as a
warning naming the field, so a draft lists exactly what is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

MARKER = "TODO"
_MARKER_RE = re.compile(rf"\b{MARKER}\b:?\s*(.*)")


@dataclass(frozen=True)
class Todo:
    line: int
    field: str
    text: str

    def __str__(self) -> str:
        return f"{self.field}: {self.text or 'to write'} (line {self.line})"


def todo_markers(path: Path) -> list[Todo]:
    """Every line holding the marker, with the deepest field starting on or before it."""
    text = Path(path).read_text(encoding="utf-8")
    lines = text.splitlines()
    hits = [(i + 1, m.group(1).strip().rstrip('"').strip()) for i, ln in enumerate(lines) if (m := _MARKER_RE.search(ln))]
    if not hits:
        return []
    starts = _field_lines(YAML(typ="rt").load(text))
    out = []
    for line, what in hits:
        last = max((ln for ln, _ in starts if ln <= line), default=None)
        # the shallowest field starting on that line: `baseline: {trust: .., distress: ..}  # TODO` is baseline's
        loc = min((loc for ln, loc in starts if ln == last), key=len, default=None)
        out.append(Todo(line, ".".join(map(str, loc)) if loc else "(top of file)", what))
    return out


def _field_lines(node, loc: tuple = ()) -> list[tuple[int, tuple]]:
    """(1-based line, location) of every key and list item in a ruamel round-trip tree."""
    found = []
    if isinstance(node, dict) and hasattr(node, "lc"):
        for key, value in node.items():
            try:
                line = node.lc.key(key)[0] + 1
            except (KeyError, TypeError):
                continue
            found.append((line, loc + (key,)))
            found += _field_lines(value, loc + (key,))
    elif isinstance(node, list) and hasattr(node, "lc"):
        for i, value in enumerate(node):
            try:
                line = node.lc.item(i)[0] + 1
            except (KeyError, IndexError, TypeError):
                continue
            found.append((line, loc + (i,)))
            found += _field_lines(value, loc + (i,))
    return found
