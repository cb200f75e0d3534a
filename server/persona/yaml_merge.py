"""Write edited pack data back into its YAML text, keeping the author's comments.

The case editor works on plain data (what a form holds); the file on disk is hand-written
YAML with comments that explain the case. Re-dumping the data would lose them, so the data is
merged into ruamel's round-trip tree of the original text instead: a value that did not
change keeps its node (its comment, quoting and flow style), a changed string keeps the
quoting style of the one it replaces, new keys and list items are appended, removed ones
dropped (with the comments that sat on them: documented in README.md, "Case editor").
"""

from __future__ import annotations

import io

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import ScalarString

from .loader import parse_pack_text


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.width = 4096            # never fold a long line of dialogue
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _same(old, new) -> bool:
    """Equal as data, without True == 1 or 1 == "1" style coincidences."""
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        return old == new
    if isinstance(old, str) and isinstance(new, str):
        return str(old) == new
    return False


def _fresh(value):
    """Plain data as ruamel containers, so nested new values dump in block style."""
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _fresh(v)
        return out
    if isinstance(value, list):
        return CommentedSeq(_fresh(v) for v in value)
    return value


def _merged(old, new):
    """`new` (plain data) written over `old` (a ruamel node), keeping what did not change."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, value in new.items():
            old[key] = _merged(old[key], value) if key in old else _fresh(value)
        return old
    if isinstance(old, list) and isinstance(new, list):
        for i, value in enumerate(new):
            if i < len(old):
                old[i] = _merged(old[i], value)
            else:
                old.append(_fresh(value))
        del old[len(new):]
        return old
    if _same(old, new):
        return old
    if isinstance(old, ScalarString) and isinstance(new, str):
        return type(old)(new)  # a double-quoted line stays double-quoted
    return _fresh(new)


def render_yaml(data: dict, base_text: str | None = None) -> str:
    """`data` as YAML text; with `base_text` (the file it was edited from), that text's
    comments, key order and quoting are kept wherever the data still matches it."""
    doc = parse_pack_text(base_text, "(base)", keep_quotes=True) if base_text else CommentedMap()
    doc = _merged(doc, data)
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()
