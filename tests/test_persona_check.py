"""`bedside persona check`, the educator's linter, through the real engine: reachability with the
turn each concern and opportunity is reached, coverage of the generic history questions,
clashes, `--json` and `--strict`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from server.engine.clashes import emotion_clashes, retrieval_clashes
from server.engine.coverage import GENERIC_QUESTIONS, coverage, covered_share
from server.persona.loader import load_pack_file

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "persona_packs" / "chest-pain-anxiety"


@pytest.fixture(scope="module")
def engine():
    from server.config import get_settings
    from server.engine.factory import build_engine
    return build_engine(get_settings().with_overrides(persona_dir=ROOT / "persona_packs"))


def _copy(tmp_path: Path, edit) -> Path:
    d = tmp_path / "variant"
    shutil.copytree(PACK, d)
    y = d / "persona.yaml"
    text = y.read_text().replace("id: chest-pain-anxiety", "id: variant", 1)
    edited = edit(text)
    assert edited != text, "the edit did not apply"
    y.write_text(edited)
    return d


def test_the_bank_covers_every_history_area_with_forty_questions_or_more():
    areas = {a for a, _ in GENERIC_QUESTIONS}
    assert len(GENERIC_QUESTIONS) >= 40
    assert {"presenting", "history", "past", "medicines", "allergies", "family", "social", "mood", "risk", "ideas",
            "concerns", "expectations"} <= areas
    assert len({q for _, q in GENERIC_QUESTIONS}) == len(GENERIC_QUESTIONS)


def test_coverage_answers_what_the_pack_holds_and_names_the_gaps(engine):
    rows = {r.question: r for r in coverage(engine, "chest-pain-anxiety")}
    assert rows["Are you allergic to anything?"].verdict == "answered"
    assert rows["Are you allergic to anything?"].facts == ("allergies",)
    assert rows["Have you had any thoughts of harming yourself?"].verdict == "answered"  # the pack's risk answer
    assert rows["Are you managing all right for money?"].verdict == "no_fact"  # the case holds nothing on money
    assert 0.6 < covered_share(list(rows.values())) < 1.0


def test_an_answer_from_another_area_is_doubtful(engine):
    from server.engine.coverage import _in_area
    pack = engine.pack("chest-pain-anxiety")
    assert _in_area(pack, "medications", "medicines") and _in_area(pack, "allergies", "allergies")
    assert not _in_area(pack, "family_history", "medicines") and not _in_area(pack, "smoking", "family")
    assert _in_area(pack, "smoking", "history")  # the complaint's areas take any fact


def test_a_fact_removed_becomes_a_coverage_gap(engine):
    from server.engine.factory import build_engine
    from server.config import get_settings
    from server.persona.loader import PackRegistry

    pack = load_pack_file(PACK)
    stripped = pack.model_copy(update={"id": "variant", "facts": [f for f in pack.facts if f.id != "allergies"]})
    eng = build_engine(get_settings(), registry=PackRegistry.from_packs([stripped]))
    rows = {r.question: r for r in coverage(eng, "variant")}
    assert rows["Are you allergic to anything?"].verdict in ("no_fact", "doubtful")


def test_shipped_packs_have_no_clashes_and_a_mislabelled_cue_has_one(engine):
    shipped = sorted(p.parent.name for p in (ROOT / "persona_packs").glob("*/persona.yaml"))
    assert shipped
    for pid in shipped:
        assert emotion_clashes(engine.pack(pid)) == [] and retrieval_clashes(engine, engine.pack(pid)) == []
    pack = engine.pack("chest-pain-anxiety")
    opp = pack.empathic_opportunities[0]
    from server.persona.schema import Emotion
    angry = opp.model_copy(update={"line": "I'm absolutely furious they sent me home last time.", "emotion": Emotion.fear})
    found = emotion_clashes(pack.model_copy(update={"empathic_opportunities": [angry, *pack.empathic_opportunities[1:]]}))
    assert [c.where for c in found] == ["empathic_opportunities.0.emotion"] and "anger" in found[0].message


def test_an_example_question_sent_to_another_fact_is_a_clash(engine):
    pack = engine.pack("chest-pain-anxiety")
    allergies = next(i for i, f in enumerate(pack.facts) if f.id == "allergies")
    facts = list(pack.facts)
    # a question on the cause, listed under allergies: the cause is asked outright, so retrieval
    # gives the patient's ideas whatever the pack lists it under
    facts[allergies] = facts[allergies].model_copy(update={"example_questions": ["What do you think might be causing the pain?"]})
    from server.config import get_settings
    from server.engine.factory import build_engine
    from server.persona.loader import PackRegistry
    variant = pack.model_copy(update={"id": "variant", "facts": facts})
    eng = build_engine(get_settings(), registry=PackRegistry.from_packs([variant]))
    found = retrieval_clashes(eng, eng.pack("variant"))
    assert [c.where for c in found] == [f"facts.{allergies}.example_questions.0"] and "ideas" in found[0].message


def test_check_json_reports_reach_turns_coverage_and_exit_codes(tmp_path, capsys):
    from server.cli import main

    capsys.readouterr()
    assert main(["persona", "check", str(PACK), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (r,) = out["packs"]
    assert out["ok"] and r["id"] == "chest-pain-anxiety" and r["errors"] == []
    concerns = [c.id for c in load_pack_file(PACK).hidden_concerns]
    assert all(c in r["reached"] and r["reached"][c]["turn"] >= 1 for c in concerns)
    assert len(r["coverage"]["questions"]) == len(GENERIC_QUESTIONS)
    assert r["warnings"], "the shipped pack has coverage gaps to warn about"
    # warnings fail only with --strict
    assert main(["persona", "check", str(PACK), "--strict"]) == 1
    capsys.readouterr()
    # an unreachable concern is an error, in JSON too
    locked = _copy(tmp_path, lambda t: t.replace('requires: ["acknowledged:dad_cue"]', 'requires: ["acknowledged:scared_explicit"]', 1))
    assert main(["persona", "check", str(locked), "--json"]) == 1
    bad = json.loads(capsys.readouterr().out)
    assert not bad["ok"] and any("fear_like_father" in e for e in bad["packs"][0]["errors"])


def test_check_prints_invalid_packs_with_every_problem(tmp_path, capsys):
    from server.cli import main

    broken = _copy(tmp_path, lambda t: t.replace("example_questions:", "exmaple_questions:", 1)
                   .replace('"disclosed:home_family"', '"disclosed:home_fam"', 1))
    capsys.readouterr()
    assert main(["persona", "check", str(broken)]) == 1
    out = capsys.readouterr().out
    assert "did you mean 'example_questions'?" in out and "did you mean 'home_family'?" in out
