"""Evaluation building blocks on data with known answers: agreement statistics, the
old-layout migration, date filters, the xAPI checker. No engine, no database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from eval.agreement.stats import cohen_kappa, confusion, exact_agreement, lin_ccc, threshold_accuracy, within_one
from eval.export.xapi_check import check_statement
from eval.load.filters import parse_when
from eval.load.jsonl import load_jsonl
from eval.load.migrate import LayoutError, upgrade

FIXTURE = Path(__file__).parent / "fixtures" / "eval_v0_prototype_log.jsonl"


# -- agreement statistics ----------------------------------------------------------------
def test_kappa_on_a_hand_computed_table():
    # both yes 20, A yes/B no 5, A no/B yes 10, both no 15: po = .7, pe = .5*.6 + .5*.4 = .5 -> kappa .4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert exact_agreement(a, b) == pytest.approx(0.7)
    m = confusion(a, b)
    assert m.labels == ["no", "yes"] and m.matrix == [[15, 10], [5, 20]]


def test_quadratic_weighted_kappa_by_hand():
    # observed disagreement (0.25 + 0.25)/6 = 1/12; expected 12/36 = 1/3; kappa = 1 - (1/12)/(1/3) = 0.75
    a, b = [0, 0, 1, 1, 2, 2], [0, 1, 1, 2, 2, 2]
    assert cohen_kappa(a, b, "quadratic") == pytest.approx(0.75)
    assert cohen_kappa(a, b, "quadratic") == pytest.approx(cohen_kappa_score(a, b, weights="quadratic"))
    assert cohen_kappa(a, b, "linear") == pytest.approx(cohen_kappa_score(a, b, weights="linear"))
    assert within_one(a, b) == 1.0
    assert threshold_accuracy(a, b, 1) == pytest.approx(5 / 6)


def test_perfect_agreement_is_one_and_undefined_is_none():
    xs = [0, 1, 2, 3, 4, 5, 6, 3]
    assert cohen_kappa(xs, xs) == pytest.approx(1.0)
    assert cohen_kappa(xs, xs, "quadratic") == pytest.approx(1.0)
    assert lin_ccc(xs, xs) == pytest.approx(1.0)
    assert cohen_kappa([1, 1, 1], [1, 1, 1]) is None  # no variation: chance agreement is total
    assert cohen_kappa([], []) is None and lin_ccc([1.0], [1.0]) is None


def test_lins_ccc_known_value():
    # y = x + 1: s_x^2 = s_y^2 = s_xy = 2, mean gap 1 -> 2*2 / (2 + 2 + 1) = 0.8
    assert lin_ccc([1, 2, 3, 4, 5], [2, 3, 4, 5, 6]) == pytest.approx(0.8)
    # perfectly correlated but scaled: Pearson would say 1, CCC penalises the disagreement
    assert lin_ccc([1, 2, 3], [2, 4, 6]) == pytest.approx(2 * (4 / 3) / (2 / 3 + 8 / 3 + 4))


# -- old layouts ---------------------------------------------------------------------
def test_v0_lines_are_upgraded_step_by_step():
    raw = json.loads(FIXTURE.read_text().splitlines()[4])
    line, version = upgrade(raw)
    assert version == 0 and line["schema_version"] == 1
    assert line["grade"]["flags"] == ["dismissive", "interrupted"]  # renamed, and the unknown flag dropped
    assert line["interrupted"] is True and line["mode"] == "voice"
    assert line["state_before"]["trust"] == 0.25 and line["state_after"]["trust"] == 0.18


def test_unknown_and_future_layouts_are_refused():
    with pytest.raises(LayoutError, match="newer"):
        upgrade({"schema_version": 99})
    with pytest.raises(LayoutError, match="not a Bedside export"):
        upgrade({"hello": "world"})


def test_v0_fixture_loads_as_sessions():
    sessions = load_jsonl([FIXTURE])
    assert [s.learner_id for s in sessions] == ["student-07", "student-12"]
    chest, angry = sessions
    assert chest.schema_version == 0 and chest.persona_id == "chest-pain-anxiety" and chest.mode == "text"
    assert chest.started_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert [t.turn for t in chest.turns] == [1, 2, 3, 4]
    t3, t4 = chest.turns[2], chest.turns[3]
    assert t3.grade.flags == ["sympathy_only"] and t4.grade.nurse == ["name", "explore"]
    assert t4.grade.question_type == "open"  # recovered from the words
    assert chest.turns[1].disclosed == ["onset_timing"]
    assert angry.mode == "voice" and angry.turns[0].interrupted and angry.turns[0].barged_in


def test_dates_filter_whole_days():
    assert parse_when("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_when("2024-05-01", end_of_day=True).date().isoformat() == "2024-05-01"
    assert parse_when("2024-05-01T12:30:00+02:00").hour == 12


# -- the xAPI checker catches what an LRS would reject ------------------------------------------
GOOD = {
    "id": "6f1c1a55-6c6a-4e0b-9a53-0a3d5b1e2f10",
    "actor": {"objectType": "Agent", "account": {"homePage": "https://lms.example", "name": "student-07"}},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
    "object": {"objectType": "Activity", "id": "https://bedside.example/xapi/personas/demo",
               "definition": {"name": {"en-US": "Demo"}, "type": "http://adlnet.gov/expapi/activities/simulation"}},
    "result": {"score": {"scaled": 0.8, "raw": 40, "min": 10, "max": 50}, "completion": True, "duration": "PT12M3.5S",
               "extensions": {"https://bedside.example/xapi/extensions/mean-eccs": None}},
    "context": {"registration": "0b8e7c52-3c1a-4d7e-9f00-1a2b3c4d5e01", "platform": "Bedside", "language": "en-US"},
    "timestamp": "2024-05-01T10:00:00Z",
}


def _broken(path: str, value) -> dict:
    s = json.loads(json.dumps(GOOD))
    *parents, last = path.split(".")
    node = s
    for p in parents:
        node = node[p]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return s


def test_a_good_statement_passes():
    assert check_statement(GOOD) == []


@pytest.mark.parametrize("path,value,needle", [
    ("actor", KeyError, "missing required 'actor'"),
    ("verb", KeyError, "missing required 'verb'"),
    ("object", KeyError, "missing required 'object'"),
    ("verb.id", "completed", "verb.id: must be an IRI"),
    ("verb.display", {"english!": "completed"}, "language tag"),
    ("object.id", "not an iri", "object.id: must be an IRI"),
    ("actor.mbox", "mailto:a@b.example", "exactly one of"),
    ("actor.account", {"homePage": "lms", "name": "x"}, "homePage: must be an IRL"),
    ("result.score", {"raw": 60, "min": 10, "max": 50}, "must not be above max"),
    ("result.score", {"raw": 5, "min": 10, "max": 50}, "must not be below min"),
    ("result.score", {"scaled": 1.5}, "between -1 and 1"),
    ("result.score", {"min": 5, "max": 5}, "max must be greater than min"),
    ("result.extensions", {"mean-eccs": 3}, "is not an IRI"),
    ("result.duration", "12 minutes", "ISO 8601 duration"),
    ("context.registration", "session-1", "registration: must be a UUID"),
    ("id", "42", "id: must be a UUID"),
    ("timestamp", "2024-05-01 10:00", "time zone"),
    ("result.success", None, "null is only allowed inside extensions"),
])
def test_the_checker_rejects(path, value, needle):
    problems = check_statement(_broken(path, value))
    assert any(needle in p for p in problems), problems
