"""Load and validate persona packs, reporting problems as `file:line: field: message`.

ruamel.yaml keeps each key's line, so a pydantic error location like
`facts.3.answers.open` maps back to the line an educator has to edit.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml import events as yaml_events
from ruamel.yaml.error import YAMLError

from .schema import ID_PATTERN, PersonaPack, _ID_RE, cross_reference_problems

log = logging.getLogger(__name__)
PACK_FILE = "persona.yaml"
MAX_PACK_BYTES = 1_000_000  # a pack is lines of dialogue; a 20 MB one was served whole to every client
MAX_DEPTH = 16              # the schema nests about six levels

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
    "string_too_short": "write something here: it may not be empty",
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


def pack_version(text: str | bytes) -> str:
    """A pack's version: the first 12 hex digits of the SHA-256 of its file. Sessions record it,
    so an educator can tell which wording of a case a learner met."""
    return hashlib.sha256(text.encode("utf-8") if isinstance(text, str) else text).hexdigest()[:12]


def load_pack_file(path: Path) -> PersonaPack:
    """Parse and validate one persona.yaml; raise PackError listing every problem."""
    path = Path(path)
    if path.is_dir():
        path = path / PACK_FILE
    name = str(path)
    if not path.exists():
        raise PackError([Problem(name, 1, "(file)", "no such file", f"a pack is a directory holding {PACK_FILE}")])
    try:
        text = _read_text(path, name)
    except OSError as exc:
        raise PackError([Problem(name, 1, "(file)", f"could not be read: {type(exc).__name__}: {exc}"[:300],
                                 "a pack is a plain UTF-8 YAML file; start from `bedside persona new <id>`")]) from None
    return validate_pack_doc(parse_pack_text(text, name), name, dirname=path.parent.name)


def parse_pack_text(text: str, name: str, *, keep_quotes: bool = False):
    """YAML text -> ruamel's round-trip tree (which keeps each key's line), refusing oversized
    text, anchors, deep nesting and syntax errors as a PackError. Never builds Python objects
    from tags, so untrusted text (an educator's paste) is safe to parse. `keep_quotes` keeps each
    string's quoting, for writing the tree back out (server/persona/yaml_merge.py)."""
    if len(text.encode("utf-8")) > MAX_PACK_BYTES:
        raise PackError([Problem(name, 1, "(file)", f"the text is over {MAX_PACK_BYTES:,} bytes",
                                 "a pack holds lines of dialogue, not data: split or shorten it")])
    try:
        _check_structure(text, name)
        yaml = YAML(typ="rt")
        yaml.preserve_quotes = keep_quotes
        doc = yaml.load(text)
    except PackError:
        raise
    except YAMLError as exc:
        raise PackError([_yaml_problem(name, text, exc)]) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise PackError([Problem(name, 1, "(file)", f"could not be read: {type(exc).__name__}: {exc}"[:300],
                                 "a pack is a plain UTF-8 YAML file; start from `bedside persona new <id>`")]) from None
    if not isinstance(doc, dict):
        raise PackError([Problem(name, 1, "(top level)", "the file is not a mapping", "start from `bedside persona new <id>`")])
    return doc


def validate_pack_doc(doc, name: str, dirname: str | None = None) -> PersonaPack:
    """Validate a parsed pack (a ruamel tree, whose lines are reported, or plain data) against
    the schema and its cross-references; `dirname`, when given, must equal the pack's id."""
    try:
        pack = PersonaPack.model_validate(_plain(doc))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            msg, hint = err["msg"], _HINTS.get(err["type"], "see `bedside persona schema`")
            if err["type"] == "extra_forbidden":
                msg = f"unknown key '{loc[-1]}'"
                close = difflib.get_close_matches(str(loc[-1]), _allowed_keys(loc[:-1]), n=1, cutoff=0.6)
                if close:
                    hint = f"did you mean '{close[0]}'? (`bedside persona schema` lists the allowed keys)"
            problems.append(Problem(name, _line_of(doc, loc), _field(loc), msg, hint))
        # the dangling references too, read leniently, so one run shows everything to fix
        problems += [Problem(name, _line_of(doc, loc), _field(loc), msg, hint)
                     for loc, msg, hint in cross_reference_problems(_plain(doc))]
        raise PackError(problems) from None
    problems = [Problem(name, _line_of(doc, loc), _field(loc), msg, hint) for loc, msg, hint in cross_reference_problems(pack)]
    if dirname is not None and dirname != pack.id:
        problems.append(Problem(name, _line_of(doc, ("id",)), "id", f"id '{pack.id}' differs from its directory '{dirname}'",
                                f"rename the directory to '{pack.id}' or set id: {dirname}"))
    if problems:
        raise PackError(problems)
    return pack


def _allowed_keys(loc: tuple) -> list[str]:
    """The keys the schema allows at `loc` (a pydantic location less its last part), for a
    "did you mean" on a misspelt one; empty when `loc` does not lead to a mapping of the schema."""
    model: type[BaseModel] = PersonaPack
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        inner = _model_in(field.annotation)
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _model_in(annotation) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as `list[Fact]` or `Gate | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, tuple, typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            if (found := _model_in(arg)) is not None:
                return found
    return None


# What ruamel says, what it usually means in a hand-written pack, and what to type instead.
_YAML_ADVICE = (
    ("mapping values are not allowed", "an unquoted ':' inside a value",
     'put the value in double quotes when it holds ": ", e.g.  open: "He said: not today"'),
    ("could not find expected ':'", "a line that is neither 'key: value' nor a list item",
     "write 'key: value', or continue the text above inside its quotes"),
    ("did not find expected key", "indentation that does not line up",
     "line up the keys of one mapping at the same indentation, with spaces"),
    ("expected <block end>", "indentation that does not line up",
     "line up the keys of one mapping at the same indentation; list items start with '- ' at one indentation"),
    ("did not find expected '-'", "a list item out of line", "start every item of one list with '- ' at the same indentation"),
    ("found unexpected end of stream", "an unclosed quote", "close the quote opened on this line or above it"),
    ("found duplicate key", "a key written twice", "keep one of the two; each key appears once in a mapping"),
)


def _yaml_problem(name: str, text: str, exc: YAMLError) -> Problem:
    """A YAML syntax error as a Problem that names the likely cause and what to type."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark else 1
    said = " ".join(str(getattr(exc, "problem", None) or exc).split())
    lines = text.splitlines()
    shown = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    full = f"{said} {getattr(exc, 'context', '') or ''}"
    if "\t" in (lines[line - 1] if 0 < line <= len(lines) else "") or "'\\t'" in full:
        return Problem(name, line, "(yaml)", f"a tab character ({said})",
                       "indent with spaces, never tabs (most editors: 'convert tabs to spaces')")
    key, _, value = shown.partition(": ")
    if "mapping values are not allowed" in full and value and ": " not in value and re.fullmatch(r"-?\s*[\w-]+", key):
        # "key: value" with no second colon: the key sits at the wrong depth, not a colon in a value
        return Problem(name, line, "(yaml)", f"indentation that does not line up ({said}) in: {shown[:80]}",
                       "indent this key like the other keys of its mapping, with spaces")
    for needle, cause, advice in _YAML_ADVICE:
        if needle in full:
            return Problem(name, line, "(yaml)", f"{cause} ({said})" + (f" in: {shown[:80]}" if shown else ""), advice)
    return Problem(name, line, "(yaml)", said + (f" in: {shown[:80]}" if shown else ""),
                   "fix the YAML syntax: check indentation and quote strings holding ':'")


def _read_text(path: Path, name: str) -> str:
    """The file as UTF-8 text, refused with its line when it is too big or not UTF-8."""
    size = path.stat().st_size
    if size > MAX_PACK_BYTES:
        raise PackError([Problem(name, 1, "(file)", f"the file is {size:,} bytes; a pack may be at most {MAX_PACK_BYTES:,}",
                                 "a pack holds lines of dialogue, not data: split or shorten it")])
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PackError([Problem(name, line, "(encoding)", f"byte 0x{raw[exc.start]:02x} at offset {exc.start} is not UTF-8",
                                 "save the file as UTF-8 (most editors: 'Save with encoding')")]) from None


def _check_structure(text: str, name: str) -> None:
    """Refuse anchors and aliases (a few hundred bytes of aliases can expand to gigabytes) and
    nesting deeper than MAX_DEPTH, from the parser's events, before anything is built."""
    depth = 0
    for ev in YAML().parse(text):
        line = ev.start_mark.line + 1 if ev.start_mark else 1
        if isinstance(ev, yaml_events.AliasEvent) or getattr(ev, "anchor", None):
            raise PackError([Problem(name, line, "(yaml)", "anchors and aliases (&name, *name) are not allowed in a pack",
                                     "write the text out in full where it is needed")])
        if isinstance(ev, (yaml_events.MappingStartEvent, yaml_events.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise PackError([Problem(name, line, "(yaml)", f"nested more than {MAX_DEPTH} levels deep",
                                         "a pack is a few levels of keys and lists; check the indentation")])
        elif isinstance(ev, (yaml_events.MappingEndEvent, yaml_events.SequenceEndEvent)):
            depth -= 1


def _plain(node):
    """ruamel's commented containers -> plain dicts/lists, so pydantic sees ordinary types."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def pack_files(paths: list[Path]) -> list[Path]:
    """The persona.yaml files named by pack dirs, persona.yaml files or directories of packs
    (a path that is none of these is kept, to be reported as missing)."""
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
    return files


def validate_paths(paths: list[Path]) -> tuple[list[PersonaPack], list[Problem]]:
    """Validate packs given as pack dirs, persona.yaml files or directories of packs."""
    packs, problems, seen = [], [], {}
    files = pack_files(paths)
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


def _file_version(path: Path) -> str | None:
    try:
        return pack_version(path.read_bytes())
    except OSError:
        return None


def check_persona_id(persona_id: str) -> str:
    """Reject ids that could escape the pack directory ('../x', 'a/b')."""
    if not isinstance(persona_id, str) or not _ID_RE.fullmatch(persona_id):  # fullmatch: "$" alone lets "id\n" through
        raise ValueError(f"invalid persona id {persona_id!r}: use lower-case letters, digits, '-' or '_' with no path separators")
    return persona_id


class PackRegistry:
    """Every valid pack in a directory. Invalid packs are logged and skipped, never fatal."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.packs: dict[str, PersonaPack] = {}
        self.versions: dict[str, str | None] = {}  # pack id -> pack_version of the file loaded
        self.problems: list[Problem] = []
        self.reload()

    @classmethod
    def from_packs(cls, packs: list[PersonaPack]) -> "PackRegistry":
        """A registry over packs already validated (e.g. `bedside persona check` of given paths)."""
        reg = cls.__new__(cls)
        reg.directory, reg.packs, reg.problems = Path("."), {p.id: p for p in packs}, []
        reg.versions = {}
        return reg

    def reload(self) -> None:
        packs, problems = validate_paths([self.directory]) if self.directory.is_dir() else ([], [])
        self.packs = {p.id: p for p in packs}
        self.versions = {p.id: _file_version(self.directory / p.id / PACK_FILE) for p in packs}
        self.problems = problems
        for p in problems:
            log.error("persona pack refused: %s", p)

    def reload_pack(self, persona_id: str) -> PersonaPack:
        """Re-read one pack after its file was saved; the other packs keep their loaded objects
        (and their engine indexes). Raises PackError, leaving the registry as it was."""
        path = self.directory / check_persona_id(persona_id) / PACK_FILE
        pack = load_pack_file(path)
        self.packs = {**self.packs, pack.id: pack}
        self.versions = {**self.versions, pack.id: _file_version(path)}
        self.problems = [p for p in self.problems if Path(p.file) != path]
        return pack

    def version(self, persona_id: str) -> str | None:
        """The loaded file's `pack_version`, or None for packs not read from this directory."""
        return self.versions.get(persona_id)

    def get(self, persona_id: str) -> PersonaPack:
        check_persona_id(persona_id)
        try:
            return self.packs[persona_id]
        except KeyError:
            raise KeyError(f"unknown persona '{persona_id}'; available: {', '.join(sorted(self.packs)) or '(none)'}") from None
