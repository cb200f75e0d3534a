"""Persona pack schema: good packs load, bad ones are refused with file:line messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from server.persona.loader import PackError, PackRegistry, check_persona_id, load_pack_file, validate_paths
from server.persona.schema import PersonaPack

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = (ROOT / "server" / "persona" / "template.yaml").read_text()


def make_pack(tmp_path: Path, pid: str = "demo", text: str | None = None) -> Path:
    d = tmp_path / pid
    d.mkdir(parents=True, exist_ok=True)
    (d / "persona.yaml").write_text(text if text is not None else TEMPLATE.replace("__ID__", pid))
    return d / "persona.yaml"


def line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


def problems_for(path: Path) -> list:
    with pytest.raises(PackError) as info:
        load_pack_file(path)
    return info.value.problems


def test_template_is_a_valid_pack(tmp_path):
    pack = load_pack_file(make_pack(tmp_path))
    assert pack.id == "demo"
    assert pack.facts[0].answers.open.startswith("About three weeks")


def test_shipped_packs_are_valid_and_complete():
    packs, problems = validate_paths([ROOT / "persona_packs"])
    assert problems == []
    assert len(packs) >= 14
    for p in packs:
        assert len(p.facts) >= 12, p.id
        assert len(p.hidden_concerns) >= 2, p.id
        assert len(p.empathic_opportunities) >= 3, p.id
        assert p.checklist and p.debrief_notes, p.id
    styles = {p.identity.cultural_expression.value for p in packs}
    assert styles == {"explicit", "indirect"}


def test_unknown_key_names_line_and_field(tmp_path):
    text = TEMPLATE.replace("__ID__", "demo").replace('  reason: "Headaches', '  reasn: "Headaches')
    path = make_pack(tmp_path, text=text)
    probs = problems_for(path)
    unknown = [p for p in probs if p.field == "visit.reasn"]
    assert unknown and unknown[0].line == line_of(text, "reasn:")
    assert "unknown key 'reasn'" in unknown[0].message
    assert any(p.field == "visit.reason" and "Field required" in p.message for p in probs)
    assert str(unknown[0]).startswith(f"{path}:{unknown[0].line}: visit.reasn: ")


def test_wrong_type_is_reported_with_hint(tmp_path):
    text = TEMPLATE.replace("__ID__", "demo").replace("  age: 45", "  age: forty")
    probs = problems_for(make_pack(tmp_path, text=text))
    assert [(p.field, p.line) for p in probs] == [("identity.age", line_of(text, "age: forty"))]
    assert "whole number" in probs[0].hint


def test_dangling_reference_is_an_error(tmp_path):
    text = TEMPLATE.replace("__ID__", "demo").replace('requires: ["acknowledged:worry"]', 'requires: ["acknowledged:wory"]')
    probs = problems_for(make_pack(tmp_path, text=text))
    assert len(probs) == 1
    assert probs[0].field == "hidden_concerns.0.gate.requires.0"
    assert "names no empathic opportunity 'wory'" in probs[0].message
    assert "worry" in probs[0].hint
    assert probs[0].line == line_of(text, "acknowledged:wory")


def test_duplicate_ids_are_errors(tmp_path):
    text = TEMPLATE.replace("__ID__", "demo").replace("  - id: family_history", "  - id: onset")
    probs = problems_for(make_pack(tmp_path, text=text))
    assert any("duplicate id 'onset'" in p.message for p in probs)


def test_duplicate_persona_ids_across_packs(tmp_path):
    make_pack(tmp_path / "a", "demo")
    make_pack(tmp_path / "b", "demo")
    packs, probs = validate_paths([tmp_path / "a" / "demo", tmp_path / "b" / "demo"])
    assert len(packs) == 1 and "duplicate persona id 'demo'" in probs[0].message


def test_bad_yaml_reports_its_line(tmp_path):
    text = TEMPLATE.replace("__ID__", "demo").replace("  age: 45", "  age: [45")
    probs = problems_for(make_pack(tmp_path, text=text))
    assert probs[0].field == "(yaml)" and probs[0].line >= line_of(text, "age: [45")


def test_directory_must_match_id(tmp_path):
    path = make_pack(tmp_path, "other", text=TEMPLATE.replace("__ID__", "demo"))
    probs = problems_for(path)
    assert probs[0].field == "id" and "differs from its directory" in probs[0].message


@pytest.mark.parametrize("bad", ["../x", "a/b", "..", "", "X", "a b", "/etc"])
def test_persona_id_with_path_is_rejected(bad):
    with pytest.raises(ValueError, match="invalid persona id"):
        check_persona_id(bad)


def test_registry_skips_invalid_packs_but_loads_others(tmp_path):
    make_pack(tmp_path, "good")
    make_pack(tmp_path, "broken", TEMPLATE.replace("__ID__", "broken").replace("  age: 45", "  age: old"))
    reg = PackRegistry(tmp_path)
    assert list(reg.packs) == ["good"]
    assert reg.problems and reg.problems[0].field == "identity.age"
    with pytest.raises(KeyError, match="unknown persona 'broken'"):
        reg.get("broken")
    with pytest.raises(ValueError):
        reg.get("../good")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_validate_exit_codes(tmp_path):
    good = make_pack(tmp_path / "ok", "demo").parent
    assert _cli("persona", "validate", str(good)).returncode == 0
    bad = make_pack(tmp_path / "ko", "demo", TEMPLATE.replace("__ID__", "demo").replace("trust: 0.4,", "trust: high,"))
    res = _cli("persona", "validate", str(bad.parent))
    assert res.returncode == 1
    assert f"{bad}:" in res.stdout and "emotion.baseline.trust" in res.stdout and "hint:" in res.stdout


def test_cli_new_scaffolds_a_valid_pack_and_schema_exports(tmp_path):
    res = _cli("persona", "new", "fresh-case", "--persona-dir", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert load_pack_file(tmp_path / "fresh-case").id == "fresh-case"
    assert _cli("persona", "new", "fresh-case", "--persona-dir", str(tmp_path)).returncode == 2
    assert _cli("persona", "new", "../evil", "--persona-dir", str(tmp_path)).returncode == 2
    schema = json.loads(_cli("persona", "schema").stdout)
    assert schema["additionalProperties"] is False
    assert {"facts", "hidden_concerns", "empathic_opportunities", "uncovered"} <= set(schema["properties"])
    assert schema == {**PersonaPack.model_json_schema(), "$schema": schema["$schema"], "title": schema["title"]}


@pytest.mark.parametrize("case,content,needle", [
    ("encoding", b'id: enc\ntitle: "caf\xe9"\n', "(encoding)"),
    ("nesting", b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested more than"),
    ("aliases", b'a: &a ["lol","lol"]\nb: &b [*a,*a,*a]\nc: [*b,*b,*b]\n', "anchors and aliases"),
    ("size", b'id: big\ntitle: "' + b"x" * 1_100_000 + b'"\n', "may be at most"),
])
def test_a_bad_pack_is_one_clear_error_and_the_others_are_served(tmp_path, case, content, needle):
    """Issue 16: encoding, nesting, alias bombs and size are each a file:line problem for that pack;
    the registry still serves the good packs, and `validate` exits 1 without a traceback."""
    import shutil

    shutil.copytree(ROOT / "persona_packs" / "chest-pain-anxiety", tmp_path / "chest-pain-anxiety")
    (tmp_path / case).mkdir()
    (tmp_path / case / "persona.yaml").write_bytes(content)
    reg = PackRegistry(tmp_path)
    assert list(reg.packs) == ["chest-pain-anxiety"]
    assert len(reg.problems) == 1 and needle in str(reg.problems[0]) and str(tmp_path / case) in str(reg.problems[0])
    out = subprocess.run([sys.executable, "-m", "server.cli", "persona", "validate", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 1 and needle in out.stdout and "Traceback" not in out.stderr


# ------------------------------------------------------------------ the linter's friendlier errors (issue 20)

def test_schema_and_reference_problems_come_together(tmp_path):
    """One pass shows both: an author no longer fixes the schema only to meet the references."""
    text = (TEMPLATE.replace("__ID__", "demo").replace("  age: 45", "  age: forty")
            .replace('requires: ["acknowledged:worry"]', 'requires: ["acknowledged:wory"]'))
    probs = problems_for(make_pack(tmp_path, text=text))
    fields = {p.field for p in probs}
    assert "identity.age" in fields and "hidden_concerns.0.gate.requires.0" in fields
    ref = next(p for p in probs if p.field == "hidden_concerns.0.gate.requires.0")
    assert ref.hint.startswith("did you mean 'worry'?") and ref.line == line_of(text, "acknowledged:wory")


def test_a_misspelt_key_gets_a_did_you_mean(tmp_path):
    text = TEMPLATE.replace("__ID__", "demo").replace("example_questions:", "exmaple_questions:", 1)
    probs = problems_for(make_pack(tmp_path, text=text))
    typo = next(p for p in probs if "unknown key 'exmaple_questions'" in p.message)
    assert "did you mean 'example_questions'?" in typo.hint
    nothing_near = problems_for(make_pack(tmp_path / "b", text=TEMPLATE.replace("__ID__", "demo").replace("  age: 45", "  age: 45\n  zzqx: 1")))
    assert nothing_near and "did you mean" not in nothing_near[0].hint


@pytest.mark.parametrize("breakage,cause,advice", [
    (lambda t: t.replace("\n  age: 45", "\n\tage: 45", 1), "tab", "spaces, never tabs"),
    (lambda t: t.replace("  age: 45", "  age: 45\n  sex: he said: no", 1), "unquoted ':'", "double quotes"),
    (lambda t: t.replace("  age: 45", "   age: 45", 1), "indentation", "indent"),
])
def test_common_yaml_mistakes_say_what_to_type(tmp_path, breakage, cause, advice):
    text = breakage(TEMPLATE.replace("__ID__", "demo"))
    probs = problems_for(make_pack(tmp_path, text=text))
    assert len(probs) == 1 and probs[0].field == "(yaml)"
    assert cause in probs[0].message and advice in probs[0].hint
    assert 1 < probs[0].line <= len(text.splitlines())


def _without_appearance(text: str) -> str:
    start = text.index("appearance:")
    return text[:start] + text[text.index("\nemotion:", start) + 1:]


def test_appearance_is_optional_and_follows_from_age_and_gender(tmp_path):
    """Issue 19: a pack written before `appearance` still loads; the face it gets follows from
    the identity (hair by gender, colour by age), and what the pack says wins."""
    bare = _without_appearance(TEMPLATE.replace("__ID__", "demo"))
    assert "appearance" not in bare
    pack = load_pack_file(make_pack(tmp_path, text=bare))
    assert pack.appearance.resolved(pack.identity).model_dump() == {"skin_tone": "medium", "hair": "long", "hair_colour": "brown"}
    older_man = pack.identity.model_copy(update={"age": 78, "gender": "male"})
    assert pack.appearance.resolved(older_man).model_dump() == {"skin_tone": "medium", "hair": "short", "hair_colour": "white"}
    assert pack.appearance.resolved(pack.identity.model_copy(update={"age": 64})).hair_colour == "grey"
    said = load_pack_file(make_pack(tmp_path / "b", text=TEMPLATE.replace("__ID__", "demo").replace("skin_tone: medium ", "skin_tone: dark ")))
    assert said.appearance.resolved(said.identity).skin_tone == "dark"


def test_a_skin_tone_off_the_list_names_the_choices(tmp_path):
    text = TEMPLATE.replace("__ID__", "demo").replace("skin_tone: medium ", "skin_tone: olive ")
    probs = problems_for(make_pack(tmp_path, text=text))
    bad = next(p for p in probs if p.field == "appearance.skin_tone")
    assert bad.line == line_of(text, "skin_tone: olive")
    assert "medium-dark" in bad.message + bad.hint


def test_every_shipped_pack_says_how_its_patient_looks():
    packs, _ = validate_paths([ROOT / "persona_packs"])
    for p in packs:
        assert "appearance" in p.model_fields_set, f"{p.id}: no appearance"
    assert len({p.appearance.skin_tone for p in packs}) >= 4  # the five cases are not one face
