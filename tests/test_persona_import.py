"""`bedside persona import agentclinic`: AgentClinic OSCE cases as DRAFT packs that validate,
with facts in the patient's first person, the examiner's findings kept out of what the patient
can say, and TODO markers that `bedside persona check` lists by field. The sample cases are read
from the shared data folder (BEDSIDE_SHARED_DATA); drafts are written to a temporary directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.cli import main as bedside
from server.grading.data_sources import shared_dir
from server.persona.first_person import rewrite_sentence, symptom_line
from server.persona.import_agentclinic import CaseError, import_file, read_cases
from server.persona.loader import load_pack_file, validate_paths
from server.persona.todos import todo_markers
from tests.ci import unless_ci

SAMPLE = Path("agentclinic-sample") / "agentclinic_medqa_first30.jsonl"
TODO_FIELDS = {"title", "setting", "learning_objectives.0", "identity.name", "emotion.primary", "emotion.baseline",
               "hidden_concerns", "empathic_opportunities", "risk.self_harm", "risk.harm_to_others", "risk.safeguarding",
               "debrief_notes.0"}
CASE = {"OSCE_Examination": {
    "Objective_for_Doctor": "Assess the patient.", "Correct_Diagnosis": "Costochondritis",
    "Patient_Actor": {"Demographics": "40-year-old man", "History": "The patient reports chest pain for 2 days. He denies fever.",
                      "Symptoms": {"Primary_Symptom": "Chest pain", "Secondary_Symptoms": ["Tenderness on palpation"]},
                      "Past_Medical_History": "Hypertension", "Social_History": "Works as a plumber.",
                      "Review_of_Systems": "Denies cough."},
    "Physical_Examination_Findings": {"Chest": "Reproducible tenderness over the costal cartilage"},
    "Test_Results": {"ECG": "Normal sinus rhythm"}}}


@pytest.fixture(scope="module")
def sample() -> Path:
    path = shared_dir() / SAMPLE
    if not path.is_file():
        pytest.skip(unless_ci(f"the AgentClinic sample is not at {path}; it runs when ../shared/data is beside the "
                              "checkout or BEDSIDE_SHARED_DATA names it, and in CI a missing sample fails it"))
    return path


@pytest.fixture(scope="module")
def drafts(sample, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("drafts")
    assert bedside(["persona", "import", "agentclinic", str(sample), "--out", str(out)]) == 0
    return out


def test_all_thirty_sample_cases_import_as_drafts_that_validate(sample, drafts):
    cases = read_cases(sample)
    packs, problems = validate_paths([drafts])
    assert problems == []
    assert len(packs) == len(cases) == 30
    for pack in packs:
        assert pack.id.startswith("agentclinic-") and pack.facts and pack.checklist
        assert (drafts / pack.id / "SOURCE-LICENSE.txt").read_text().startswith("MIT License")


def test_every_draft_lists_what_a_person_must_write(drafts):
    for pack_dir in sorted(drafts.iterdir()):
        fields = {t.field for t in todo_markers(pack_dir / "persona.yaml")}
        assert TODO_FIELDS <= fields, (pack_dir.name, sorted(TODO_FIELDS - fields))


def test_examination_findings_and_tests_stay_out_of_the_patients_words(sample, drafts):
    for line, case in read_cases(sample):
        osce = case["OSCE_Examination"]
        pack = next(load_pack_file(d) for d in drafts.iterdir() if d.name.startswith(f"agentclinic-{line:03d}"))
        said = " ".join(a for f in pack.facts for a in (f.answers.guarded, f.answers.neutral, f.answers.open))
        told = " ".join(_leaves(osce["Patient_Actor"]))
        for key in ("Physical_Examination_Findings", "Test_Results"):
            for value in _leaves(osce.get(key) or {}):
                if len(value) > 25 and value not in told:  # short values ("Normal") may be words of the history too
                    assert value not in said, (line, key, value)
        assert osce["Correct_Diagnosis"] not in said or osce["Correct_Diagnosis"] in json.dumps(osce["Patient_Actor"])


def test_check_reports_the_todos_as_warnings_naming_the_field(drafts, capsys):
    first = sorted(drafts.iterdir())[0]
    capsys.readouterr()
    assert bedside(["persona", "check", str(first), "--json"]) == 0  # TODOs are warnings
    report = json.loads(capsys.readouterr().out)["packs"][0]
    assert TODO_FIELDS <= {t["field"] for t in report["todos"]}
    assert any(w.startswith("todo: identity.name: ") for w in report["warnings"])
    assert bedside(["persona", "check", str(first), "--strict"]) == 1
    printed = capsys.readouterr().out
    assert "warning: todo: risk.self_harm: " in printed and "warning: todo: hidden_concerns: " in printed


def test_a_case_is_worded_in_the_first_person_with_the_examiners_part_in_a_comment(tmp_path):
    src = tmp_path / "cases.jsonl"
    src.write_text(json.dumps(CASE) + "\n")
    [draft] = import_file(src, tmp_path / "out")
    pack = load_pack_file(tmp_path / "out" / draft.pack_id)
    facts = {f.id: f for f in pack.facts}
    assert facts["presenting"].answers.neutral == "I've had chest pain for 2 days."
    assert facts["presenting"].answers.open == "I've had chest pain for 2 days. I haven't had any fever."
    assert facts["past_history"].answers.open == "I have hypertension."
    assert facts["work"].answers.open == "I work as a plumber." and pack.identity.occupation == "plumber"
    assert facts["other_symptoms"].answers.open == "I haven't had any cough."
    # an examination sign in the symptom list is not reworded: it is left for a person
    assert facts["symptom_1"].answers.open.startswith("TODO: word this as the patient would say it: Tenderness")
    text = (tmp_path / "out" / draft.pack_id / "persona.yaml").read_text()
    said = " ".join(a for f in pack.facts for a in (f.answers.guarded, f.answers.neutral, f.answers.open))
    assert "#     Chest: Reproducible tenderness" in text and "Reproducible" not in said
    assert "#   Diagnosis: Costochondritis" in text and "Costochondritis" not in said
    assert pack.identity.age == 40 and pack.identity.gender == "male"


@pytest.mark.parametrize("sentence, expected", [
    ("Patient reports chest pain for 2 days.", "I've had chest pain for 2 days."),
    ("The patient reports a 3-day history of a sore throat.", "For the past 3 days, I've had a sore throat."),
    ("She notes that these symptoms tend to worsen after activity.", "These symptoms tend to worsen after activity."),
    ("His wife found him unconscious on the floor.", "My wife found me unconscious on the floor."),
    ("Non-smoker, drinks wine occasionally.", "I don't smoke. I drink wine occasionally."),
    ("The patient has been feeling tired and has difficulty sleeping.", "I've been feeling tired and have difficulty sleeping."),
    ("Denies fever, cough, or recent travel.", "I haven't had any fever, cough, or recent travel."),
])
def test_the_rewrite_rules(sentence, expected):
    r = rewrite_sentence(sentence)
    assert r.ok and r.text == expected


@pytest.mark.parametrize("sentence", ["The patient appears anxious.", "Alert and active.", "Elementary school teacher."])
def test_what_no_rule_recognises_is_left_for_a_person(sentence):
    r = rewrite_sentence(sentence)
    assert not r.ok and r.text == sentence


def test_a_symptom_phrase_becomes_a_sentence():
    assert symptom_line("Double vision").text == "I've had double vision."
    assert symptom_line("Not itchy").text == "It's not itchy."
    assert not symptom_line("Scleral icterus").ok


def _write(tmp_path, text: str) -> Path:
    p = tmp_path / "in.jsonl"
    p.write_text(text)
    return p


@pytest.mark.parametrize("text, needle", [
    ('{"OSCE_Examination": {}}\nnot json\n', ":1: missing OSCE_Examination.Patient_Actor"),
    (json.dumps(CASE) + "\n{broken\n", ":2: not a JSON object"),
    ('{"OSCE_Examination": {"Patient_Actor": {"Demographics": "x", "Symptoms": {}}}}\n',
     ":1: missing OSCE_Examination.Patient_Actor.History"),
    ("\n\n", "no cases"),
])
def test_bad_input_names_the_line_and_what_to_fix(tmp_path, text, needle):
    with pytest.raises(CaseError) as info:
        import_file(_write(tmp_path, text), tmp_path / "out")
    assert needle in str(info.value) and "hint:" in str(info.value)


def test_the_command_refuses_an_unknown_source_a_bad_file_and_overwriting(tmp_path, capsys):
    src = _write(tmp_path, json.dumps(CASE) + "\n")
    assert bedside(["persona", "import", "medqa", str(src), "--out", str(tmp_path / "o")]) == 2
    assert "unknown source 'medqa'" in capsys.readouterr().err
    assert bedside(["persona", "import", "agentclinic", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert bedside(["persona", "import", "agentclinic", str(src), "--out", str(tmp_path / "o")]) == 0
    assert bedside(["persona", "import", "agentclinic", str(src), "--out", str(tmp_path / "o")]) == 2
    assert "--force" in capsys.readouterr().err
    assert bedside(["persona", "import", "agentclinic", str(src), "--out", str(tmp_path / "o"), "--force"]) == 0


def _leaves(d):
    for v in d.values():
        if isinstance(v, dict):
            yield from _leaves(v)
        else:
            yield " ".join(str(x) for x in v) if isinstance(v, list) else " ".join(str(v).split())
