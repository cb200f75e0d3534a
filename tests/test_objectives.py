"""Learning objectives with evidence (`met_when`) and debrief notes: the schema, its references,
and the session summary marking each objective met at a turn or not yet (docs/debrief.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import get_settings
from server.core.types import ContentPlan, DialogueAct, EmotionalState, TurnResult
from server.engine.factory import build_engine
from server.engine.objectives import answered_opportunities, assess_objectives
from server.engine.summary import summarise
from server.grading.base import Grade
from server.persona.loader import PackError, load_pack_file
from tests.test_engine import DISMISSIVE, EMPATHIC

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = (ROOT / "server" / "persona" / "template.yaml").read_text()
PLAIN = '  - "Respond to an explicit emotion with a NURSE statement"\n'
OBJECTIVES = TEMPLATE[TEMPLATE.index("learning_objectives:\n") + len("learning_objectives:\n"):TEMPLATE.index("\nidentity:")]
CASE = "chest-pain-anxiety"


def pack_with(tmp_path: Path, objectives: str) -> Path:
    assert OBJECTIVES.startswith(PLAIN)
    d = tmp_path / "demo"
    d.mkdir()
    (d / "persona.yaml").write_text(TEMPLATE.replace("__ID__", "demo").replace(OBJECTIVES, objectives + "\n"))
    return d


def problems(path: Path) -> list:
    with pytest.raises(PackError) as info:
        load_pack_file(path)
    return info.value.problems


# -- schema -----------------------------------------------------------------------------------

def test_the_template_shows_both_forms(tmp_path):
    pack = load_pack_file(pack_with(tmp_path, OBJECTIVES.rstrip("\n")))
    assert [o.met_when is not None for o in pack.learning_objectives] == [False, True]


def test_plain_strings_and_objects_both_load(tmp_path):
    pack = load_pack_file(pack_with(tmp_path, PLAIN + "  - text: Name the fear\n"
                                               "    met_when: {eccs_at_least: 4, opportunity: worry, nurse: [name]}\n"))
    plain, rich = pack.learning_objectives
    assert plain.text.startswith("Respond to") and plain.met_when is None
    assert rich.met_when.eccs_at_least == 4 and rich.met_when.opportunity == "worry" and rich.met_when.nurse == ["name"]
    assert pack.objective_texts() == [plain.text, "Name the fear"]


def test_every_shipped_pack_marks_some_objectives_with_evidence():
    from server.persona.loader import validate_paths
    packs, probs = validate_paths([ROOT / "persona_packs"])
    assert probs == [] and packs
    for p in packs:
        assert any(o.met_when for o in p.learning_objectives), p.id


@pytest.mark.parametrize("met_when, field, needle, hint", [
    ("{eccs_at_least: 3, opportunity: wory}", "opportunity", "names no empathic opportunity 'wory'", "did you mean 'worry'"),
    ("{concern_revealed: tumour}", "concern_revealed", "names no hidden concern 'tumour'", "did you mean 'tumour_fear'"),
    ("{fact_disclosed: onsett}", "fact_disclosed", "names no fact 'onsett'", "did you mean 'onset'"),
    ("{checklist: hpc}", "checklist", "names no checklist item 'hpc'", "hpc_onset"),
])
def test_unknown_ids_are_errors_naming_the_id(tmp_path, met_when, field, needle, hint):
    text = f"  - text: An objective\n    met_when: {met_when}\n"
    probs = problems(pack_with(tmp_path, text))
    assert [p.field for p in probs] == [f"learning_objectives.0.met_when.{field}"]
    assert needle in probs[0].message and hint in probs[0].hint


@pytest.mark.parametrize("met_when, needle", [
    ("{opportunity: worry}", "'opportunity' needs 'eccs_at_least'"),
    ("{}", "needs at least one of"),
    ("{nurse: [hug]}", "'name', 'understand', 'respect', 'support' or 'explore'"),
    ("{eccs_at_least: 7}", "less than or equal to 6"),
])
def test_malformed_evidence_is_refused(tmp_path, met_when, needle):
    probs = problems(pack_with(tmp_path, f"  - text: An objective\n    met_when: {met_when}\n"))
    assert probs and all(p.field.startswith("learning_objectives.0.met_when") for p in probs)
    assert any(needle in p.message for p in probs), [p.message for p in probs]


def test_a_misspelt_evidence_key_gets_a_did_you_mean(tmp_path):
    probs = problems(pack_with(tmp_path, "  - text: An objective\n    met_when: {concern_reveled: tumour_fear}\n"))
    bad = [p for p in probs if p.field == "learning_objectives.0.met_when.concern_reveled"]
    assert bad and "did you mean 'concern_revealed'" in bad[0].hint


# -- the summary ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def engine():
    return build_engine(get_settings())


def _summary(engine, lines):
    state, turns, opening = engine.play(CASE, lines)
    return summarise(engine.pack(CASE), state, turns, opening), turns


def test_an_empathic_session_meets_objectives_at_the_turns_that_showed_them(engine):
    summary, turns = _summary(engine, EMPATHIC)
    pack = engine.pack(CASE)
    by_text = {o.text: o for o in summary.objectives}
    assert [o.text for o in summary.objectives] == pack.objective_texts()
    father = by_text[pack.learning_objectives[0].text]  # ECCS >= 4 on dad_cue
    dad_turn = next(t.turn_index for t in turns if (t.grade.eccs or 0) >= 4)
    assert father.assessed and father.met and father.turn == dad_turn
    ice = by_text[pack.learning_objectives[2].text]  # the ICE checklist item and fear_like_father both out
    reveal = next(t.turn_index for t in turns if "fear_like_father" in t.disclosed)
    ideas = next(t.turn_index for t in turns if {"ideas", "expectations"} & set(t.disclosed))
    assert ice.met and ice.turn == max(reveal, ideas)
    plain = by_text[pack.learning_objectives[3].text]
    assert not plain.assessed and not plain.met and plain.turn is None
    assert summary.debrief_notes == pack.debrief_notes and summary.debrief_notes


def test_a_dismissive_session_leaves_the_empathy_objectives_not_yet(engine):
    summary, turns = _summary(engine, DISMISSIVE)
    pack = engine.pack(CASE)
    by_text = {o.text: o for o in summary.objectives}
    assert not by_text[pack.learning_objectives[0].text].met
    assert by_text[pack.learning_objectives[0].text].turn is None
    assert not by_text[pack.learning_objectives[2].text].met
    # history evidence still counts: met at the later of the two first disclosures
    history = by_text[pack.learning_objectives[1].text]
    first = {f: next(t.turn_index for t in turns if f in t.disclosed) for f in ("chest_tightness", "smoking")}
    assert history.met and history.turn == max(first.values())


def _turn(i: int, eccs: int | None = None, raised: str | None = None, nurse=(), disclosed=()) -> TurnResult:
    st = EmotionalState(trust=0.5, distress=0.5, emotion="fear")
    return TurnResult(turn_index=i, learner_text="x", act=DialogueAct.other,
                      grade=Grade(grader_version="t", eccs=eccs, nurse=list(nurse)), state_before=st, state_after=st,
                      plan=ContentPlan(style="neutral", emotion="fear", opportunity=raised), disclosed=list(disclosed), reply="y")


def test_answers_are_credited_to_the_cue_raised_before_or_else_the_oldest_unanswered(engine):
    pack = engine.pack(CASE)  # its opening raises `minimising`
    turns = [_turn(1, eccs=2, raised="dad_cue"), _turn(2, eccs=1), _turn(3, eccs=4), _turn(4, eccs=5, raised="scared_explicit"),
             _turn(5, eccs=3)]
    # 1 answers the opening cue (missed), 2 the dad cue (missed), 3 is a late answer to the oldest open cue
    assert answered_opportunities(pack, turns) == ["minimising", "dad_cue", "minimising", "dad_cue", "scared_explicit"]
    met = {o.text: o for o in assess_objectives(pack, turns)}
    assert met[pack.learning_objectives[0].text].turn == 4  # ECCS >= 4 on dad_cue: the late answer at turn 4
