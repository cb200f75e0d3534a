"""Load and validate persona packs, reporting problems as `file:line: field: message`.

ruamel.yaml keeps each key's line, so a pydantic error location like
`facts.3.answers.open` maps back to the line an educator has to edit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .schema import ID_PATTERN, PersonaPack, _ID_RE, cross_reference_problems

log = logging.getLogger(__name__)
PACK_FILE = "persona.yaml"

_HINTS = {
    "extra_forbidden": "remove this key or check its spelling; `bedside persona schema` lists the allowed keys",
    "missing": "add this field; `bedside persona new <id>` shows a complete template",
    "string_type": "write a quoted string",
    "int_type": "write a whole number",
    "int_parsing": "write a whole number",
    "float_type": "write a number such as 0.5",
    "float_parsing": "write a number such as 0.5",
    "list_type": "write a YAML list (lines starting with '- ')",
    "dict_type": "write a mapping of 'key: value' lines",
    "model_type": "write a mapping of 'key: value' lines",
    "enum": "use one of the values listed in the message",
    "literal_error": "use one of the values listed in the message",
    "string_pattern_mismatch": f"ids are lower-case letters, digits, '-' or '_' ({ID_PATTERN})",
    "too_short": "add at least the number of entries the message names",
    "greater_than_equal": "raise the value into the allowed range",
    "less_than_equal": "lower the value into the allowed range",
    "value_error": "see the message for the accepted form",
}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message} (hint: {self.hint})"


class PackError(Exception):
    """Raised when a pack cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _line_of(doc, loc: tuple) -> int:
    """Best line for a location: the deepest node of `loc` that exists in the YAML tree."""
    node, line = doc, 1
    for part in loc:
        try:
            if isinstance(part, int) and hasattr(node, "lc") and isinstance(node, list):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            elif hasattr(node, "lc") and isinstance(part, str) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line


def _field(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def load_pack_file(path: Path) -> PersonaPack:
    """Parse and validate one persona.yaml; raise PackError listing every problem."""
    path = Path(path)
    if path.is_dir():
        path = path / PACK_FILE
    name = str(path)
    if not path.exists():
        raise PackError([Problem(name, 1, "(file)", "no such file", f"a pack is a directory holding {PACK_FILE}")])
    try:
        doc = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise PackError([Problem(name, line, "(yaml)", str(getattr(exc, "problem", exc)),
                                 "fix the YAML syntax: check indentation and quote strings holding ':'")]) from None
    if not isinstance(doc, dict):
        raise PackError([Problem(name, 1, "(top level)", "the file is not a mapping", "start from `bedside persona new <id>`")])
    try:
        pack = PersonaPack.model_validate(_plain(doc))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = f"unknown key '{loc[-1]}'"
            problems.append(Problem(name, _line_of(doc, loc), _field(loc), msg, _HINTS.get(err["type"], "see `bedside persona schema`")))
        raise PackError(problems) from None
    problems = [Problem(name, _line_of(doc, loc), _field(loc), msg, hint) for loc, msg, hint in cross_reference_problems(pack)]
    dirname = path.parent.name
    if dirname != pack.id:
        problems.append(Problem(name, _line_of(doc, ("id",)), "id", f"id '{pack.id}' differs from its directory '{dirname}'",
                                f"rename the directory to '{pack.id}' or set id: {dirname}"))
    if problems:
        raise PackError(problems)
    return pack


def _plain(node):
    """ruamel's commented containers -> plain dicts/lists, so pydantic sees ordinary types."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def validate_paths(paths: list[Path]) -> tuple[list[PersonaPack], list[Problem]]:
    """Validate packs given as pack dirs, persona.yaml files or directories of packs."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_file():
            files.append(p)
        elif (p / PACK_FILE).exists():
            files.append(p / PACK_FILE)
        elif p.is_dir():
            files.extend(sorted(p.glob(f"*/{PACK_FILE}")))
        else:
            files.append(p)  # reported as missing
    packs, problems, seen = [], [], {}
    for f in files:
        try:
            pack = load_pack_file(f)
        except PackError as exc:
            problems.extend(exc.problems)
            continue
        if pack.id in seen:
            problems.append(Problem(str(f), 1, "id", f"duplicate persona id '{pack.id}' (also in {seen[pack.id]})", "give each pack a unique id"))
            continue
        seen[pack.id] = str(f)
        packs.append(pack)
    return packs, problems


def check_persona_id(persona_id: str) -> str:
    """Reject ids that could escape the pack directory ('../x', 'a/b')."""
    if not isinstance(persona_id, str) or not _ID_RE.match(persona_id):
        raise ValueError(f"invalid persona id {persona_id!r}: use lower-case letters, digits, '-' or '_' with no path separators")
    return persona_id


class PackRegistry:
    """Every valid pack in a directory. Invalid packs are logged and skipped, never fatal."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.packs: dict[str, PersonaPack] = {}
        self.problems: list[Problem] = []
        self.reload()

    @classmethod
    def from_packs(cls, packs: list[PersonaPack]) -> "PackRegistry":
        """A registry over packs already validated (e.g. `bedside persona check` of given paths)."""
        reg = cls.__new__(cls)
        reg.directory, reg.packs, reg.problems = Path("."), {p.id: p for p in packs}, []
        return reg

    def reload(self) -> None:
        packs, problems = validate_paths([self.directory]) if self.directory.is_dir() else ([], [])
        self.packs = {p.id: p for p in packs}
        self.problems = problems
        for p in problems:
            log.error("persona pack refused: %s", p)

    def get(self, persona_id: str) -> PersonaPack:
        check_persona_id(persona_id)
        try:
            return self.packs[persona_id]
        except KeyError:
            raise KeyError(f"unknown persona '{persona_id}'; available: {', '.join(sorted(self.packs)) or '(none)'}") from None
