"""`bedside eval` and `bedside simulate` end to end, on a cohort simulated through the real
engine into a real store: loading (store, JSONL, old layouts), filters, per-session and
cohort reports, CSV, xAPI, read-only re-grading and agreement with raters."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eval.agreement.run import run_agreement, write_agreement
from eval.cli import main as eval_main
from eval.export.csv_tables import SESSION_COLUMNS, TURN_COLUMNS, write_tables
from eval.export.xapi import COMPLETED, RESPONDED, statements
from eval.export.xapi_check import check_statements
from eval.load import EvalFilter, Source, load_sessions
from eval.metrics.cohort import cohort_metrics
from eval.packs import Packs
from eval.pipeline import evaluate, write_cohort_page, write_session_pages
from eval.regrade.run import regrade_store, write_regrade
from eval.report.session_page import session_page
from eval.simulate.runner import SimulationRequest, simulate
from server.cli import main as bedside
from server.config import REPO_ROOT
from server.engine.summary import summarise
from server.grading.base import Grade, GradeContext, Grader
from server.grading.rules import RuleGrader
from server.store.export import export_lines, write_jsonl
from server.store.sql import open_store

PERSONA = "chest-pain-anxiety"
STYLES = ("empathic", "mixed", "dismissive")
FIXTURE = Path(__file__).parent / "fixtures" / "eval_v0_prototype_log.jsonl"
EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?(https?:)?//|@import""", re.I)


def play_voice_session(engine, store, learner: str) -> str:
    """A short voice session as the server stores it: audio durations, a barge-in."""
    lines = ["Hello, I'm Dr Rivera. It sounds like you're worried. Can you tell me more?",
             "When did it start?", "Sorry, go on. What worries you most about it?"]
    state, opening = engine.start("angry-missed-followup")
    rec = store.create_session(learner_id=learner, persona_id="angry-missed-followup", mode="voice", token="t",
                               opening=opening, initial_state=state)
    results = []
    for i, line in enumerate(lines, 1):
        barged = i == 3
        result, state = engine.respond(state, line, interrupted=barged)
        store.append_turn(rec.id, result, state, extra={"plan": result.plan.model_dump(mode="json"),
                                                        "barged_in": barged, "voice": {"audio_duration_s": 2.5 + i}})
        if barged:
            store.annotate_turn(rec.id, i - 1, {"patient_interrupted": True}, interrupted=True)
        results.append(result)
    store.end_session(rec.id, summarise(engine.pack(state.persona_id), state, results, opening).model_dump(mode="json"),
                      state)
    return rec.id


@pytest.fixture(scope="module")
def cohort(engine, settings, tmp_path_factory):
    """Three sessions per style with one persona, plus one voice session; the store is closed after."""
    data = tmp_path_factory.mktemp("eval-cohort")
    url = f"sqlite:///{data / 'bedside.db'}"
    store = open_store(url)
    ids = {style: simulate(engine, store, SimulationRequest(persona_id=PERSONA, style=style, sessions=3), progress=False)
           for style in STYLES}
    ids["voice"] = [play_voice_session(engine, store, "student-voice")]
    store.close()
    return {"url": url, "db": data / "bedside.db", "ids": ids, "dir": data}


@pytest.fixture(scope="module")
def packs(settings):
    return Packs(settings.persona_dir)


@pytest.fixture(scope="module")
def metrics(cohort, packs):
    return evaluate(load_sessions(Source(database_url=cohort["url"]), progress=False), packs, progress=False)


def _by_id(ms):
    return {m.session_id: m for m in ms}


# -- loading and filters ---------------------------------------------------------------
def test_store_sessions_load_with_their_turns(cohort, metrics):
    assert len(metrics) == 10
    voice = _by_id(metrics)[cohort["ids"]["voice"][0]]
    assert voice.mode == "voice" and voice.turns == 3
    assert voice.talk.learner_measured and voice.talk.learner_s == pytest.approx(3.5 + 4.5 + 5.5)
    assert not voice.talk.patient_measured  # estimated from words at the persona's rate
    assert voice.talk.barge_ins == 1 and voice.talk.interruptions == 1
    assert voice.views[1].interrupted and voice.views[2].barged_in


def test_filters_on_store_and_jsonl(cohort, tmp_path):
    src = Source(database_url=cohort["url"])
    assert {s.learner_id for s in load_sessions(src, EvalFilter(learners=["sim-empathic"]))} == {"sim-empathic"}
    assert len(load_sessions(src, EvalFilter(learners=["sim-empathic", "sim-mixed"]))) == 6
    assert {s.persona_id for s in load_sessions(src, EvalFilter(personas=["angry-missed-followup"]))} == {"angry-missed-followup"}
    one = cohort["ids"]["mixed"][1]
    assert [s.id for s in load_sessions(src, EvalFilter(session_ids=[one]))] == [one]
    now = datetime.now(UTC)
    assert len(load_sessions(src, EvalFilter(since=now - timedelta(days=1), until=now + timedelta(days=1)))) == 10
    assert load_sessions(src, EvalFilter(since=now + timedelta(days=1))) == []
    assert load_sessions(src, EvalFilter(until=now - timedelta(days=1))) == []

    path = tmp_path / "export.jsonl"
    store = open_store(cohort["url"])
    with open(path, "w") as fh:
        write_jsonl(export_lines(store, store.list_sessions()), fh)
    store.close()
    js = Source(jsonl=[path, FIXTURE])
    assert len(load_sessions(js)) == 12
    assert [s.learner_id for s in load_sessions(js, EvalFilter(since=datetime(2024, 5, 2, tzinfo=UTC),
                                                              until=datetime(2024, 5, 4, tzinfo=UTC)))] == ["student-12"]
    assert {s.id for s in load_sessions(js, EvalFilter(learners=["sim-dismissive"]))} == set(cohort["ids"]["dismissive"])


def test_jsonl_export_gives_the_same_figures_as_the_store(cohort, metrics, packs, tmp_path):
    path = tmp_path / "export.jsonl"
    store = open_store(cohort["url"])
    with open(path, "w") as fh:
        write_jsonl(export_lines(store, store.list_sessions()), fh)
    store.close()
    from_jsonl = _by_id(evaluate(load_sessions(Source(jsonl=[path])), packs))
    for m in metrics:
        j = from_jsonl[m.session_id]
        assert (j.mean_eccs, j.final_trust, j.turns) == (m.mean_eccs, m.final_trust, m.turns)
        assert [d.turn for d in j.coverage.facts] == [d.turn for d in m.coverage.facts]
        assert j.coverage.checklist == m.coverage.checklist
        assert j.opening == m.opening  # rebuilt from the pack
        # the summary is recomputed from the export with the engine's own definitions
        assert j.care == m.care and [x.turn for x in j.missed] == [x.turn for x in m.missed]


def test_old_layout_fixture_gets_a_full_report(packs):
    sessions = load_sessions(Source(jsonl=[FIXTURE]))
    chest = evaluate(sessions, packs)[0]
    assert chest.schema_version == 0 and chest.opening.startswith("Hi. Thanks for seeing me.")
    assert chest.views[0].opportunity == "minimising" and chest.views[2].opportunity == "dad_cue"
    assert [x.turn for x in chest.missed] == [1, 3] and chest.missed[1].opportunity_id == "dad_cue"
    assert chest.care_total and {d.id: d.turn for d in chest.coverage.facts if d.turn} == {
        "chest_tightness": 1, "onset_timing": 2, "family_history": 4}
    html = session_page(chest)
    assert "v0" in html and "sympathy only" in html


# -- reports -------------------------------------------------------------------------------
SECTIONS = ("overview", "feelings", "eccs", "talk", "questions", "disclosure", "checklist", "missed", "care", "transcript")


def test_session_page_is_self_contained_with_every_section(cohort, metrics, tmp_path):
    links = write_session_pages(metrics[:2] + [_by_id(metrics)[cohort["ids"]["voice"][0]]], tmp_path)
    for sid, name in links.items():
        html = (tmp_path / name).read_text()
        for anchor in SECTIONS:
            assert f'<section id="{anchor}">' in html
        assert html.count("<svg") >= 5 and "@media print" in html
        assert not EXTERNAL.search(html) and "http://" not in html and "https://" not in html
        assert "<script" not in html and "<link" not in html and "<img" not in html
        m = _by_id(metrics)[sid]
        for v in m.views:
            assert f'id="turn-{v.turn}"' in html
        for x in m.missed:
            assert "A better option:" in html and x.better_option.replace("'", "&#x27;") in html
        assert f"{m.care_total}/50" in html
    voice_html = (tmp_path / links[cohort["ids"]["voice"][0]]).read_text()
    assert "spoke over the patient" in voice_html and "reply cut short" in voice_html


def test_cohort_orders_styles_as_expected(metrics, tmp_path):
    c = cohort_metrics(metrics)
    learners = {g.key: g for g in c.by_learner}
    emp, mix, dis = (learners[f"sim-{s}"] for s in STYLES)
    assert emp.mean_eccs > mix.mean_eccs > dis.mean_eccs
    assert emp.final_trust > mix.final_trust > dis.final_trust
    assert emp.care_total > dis.care_total and emp.missed_share < dis.missed_share
    assert [p.learner_id for p in c.progress if p.trend != "too few sessions"] == ["sim-dismissive", "sim-empathic",
                                                                                    "sim-mixed"]
    path = write_cohort_page(metrics, tmp_path / "cohort.html", source="test")
    html = path.read_text()
    for anchor in ("overview", "struggle", "distributions", "learners", "personas", "flags", "sessions"):
        assert f'<section id="{anchor}">' in html
    assert html.count("<svg") >= 5 and not EXTERNAL.search(html) and "http" not in html
    # the hardest persona for this cohort is named
    assert c.struggle[0].key in html


def test_csv_tables_have_the_documented_columns(metrics, tmp_path):
    paths = write_tables(metrics, tmp_path)
    with open(paths["turns"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [c.name for c in TURN_COLUMNS]
    assert len(rows) == sum(m.turns for m in metrics)
    with open(paths["sessions"], newline="") as fh:
        srows = list(csv.DictReader(fh))
    assert list(srows[0]) == [c.name for c in SESSION_COLUMNS] and len(srows) == len(metrics)
    first = metrics[0]
    assert srows[0]["session_id"] == first.session_id and float(srows[0]["final_trust"]) == first.final_trust
    assert all(r["eccs_pass"] in ("", "0", "1") for r in rows)
    doc = (REPO_ROOT / "docs" / "evaluation.md").read_text()
    for col in TURN_COLUMNS + SESSION_COLUMNS:
        assert f"`{col.name}`" in doc, f"column {col.name} is not documented in docs/evaluation.md"


def test_xapi_statements_validate(metrics, cohort):
    out = statements(metrics)
    assert check_statements(out) == []
    assert len(out) == sum(m.turns for m in metrics) + len(metrics)
    sessions = [s for s in out if s["verb"]["id"] == COMPLETED]
    turns = [s for s in out if s["verb"]["id"] == RESPONDED]
    assert len(sessions) == len(metrics)
    assert {s["context"]["registration"] for s in sessions} == {m.session_id for m in metrics}
    for s in sessions:
        score = s["result"]["score"]
        assert score["min"] == 10 and score["max"] == 50 and score["scaled"] == pytest.approx(score["raw"] / 50)
        assert s["object"]["id"].startswith("https://bedside.example/xapi/personas/")
        assert s["actor"]["account"]["name"].startswith(("sim-", "student-"))
    graded = [s for s in turns if "score" in s["result"]]
    assert graded and all(s["result"]["score"]["max"] == 6 for s in graded)
    assert all(k.startswith("https://") for s in turns for k in s["result"]["extensions"])
    assert len({s["id"] for s in out}) == len(out) and statements(metrics) == out  # stable ids


# -- re-grading --------------------------------------------------------------------------
class HarsherGrader(Grader):
    """A different grader: one ECCS level lower than `base`, and 'jargon' on every question."""

    version = "harsher-test-1"

    def __init__(self, base):
        self.rules = base

    def grade(self, text: str, ctx: GradeContext) -> Grade:
        g = self.rules.grade(text, ctx)
        flags = list(g.flags) + (["jargon"] if "?" in text and "jargon" not in g.flags else [])
        return g.model_copy(update={"eccs": None if g.eccs is None else max(0, g.eccs - 1), "flags": flags,
                                    "grader_version": self.version})


def _files_hash(db: Path) -> str:
    return hashlib.sha256(db.read_bytes()).hexdigest()


def test_regrade_is_read_only_and_reports_diffs(cohort, packs, engine, tmp_path):
    before = _files_hash(cohort["db"])
    same, _ = regrade_store(cohort["url"], engine.grader, packs, progress=False)  # the grader that graded them
    assert same.summary.changed_turns == 0 and same.summary.eccs_weighted_kappa == pytest.approx(1.0)

    result, regraded = regrade_store(cohort["url"], HarsherGrader(engine.grader), packs, progress=False)
    s = result.summary
    assert s.old_versions == [engine.grader.version] and s.new_version == "harsher-test-1"
    assert s.changed_turns > 0 and s.new_mean_eccs < s.old_mean_eccs
    assert s.flags_gained.get("jargon", 0) > 0
    shifted = [d for d in result.turns if d.eccs_shift is not None and d.old_eccs > 0]
    assert shifted and all(d.eccs_shift == -1 for d in shifted)
    assert all("jargon" in d.flags_gained for d in result.turns if "?" in d.learner_text and d.flags_gained)
    assert sum(x.changed_turns for x in result.sessions) == s.changed_turns
    assert len(regraded) == sum(x.turns for x in result.sessions)

    paths = write_regrade(result, regraded, tmp_path / "rg", source="test")
    payload = json.loads(paths["json"].read_text())
    assert payload["summary"]["changed_turns"] == s.changed_turns and payload["turns"]
    html = paths["html"].read_text()
    assert f"{engine.grader.version} → harsher-test-1" in html and "jargon" in html and "http" not in html

    # the CLI, through the server's settings, writes only to --out
    assert bedside(["eval", "regrade", "--database-url", cohort["url"], "--out", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli" / "regrade.html").exists()
    assert _files_hash(cohort["db"]) == before
    wal = cohort["db"].with_name(cohort["db"].name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


# -- agreement -----------------------------------------------------------------------
def test_agreement_against_two_raters(cohort, packs, engine, tmp_path):
    store = open_store(cohort["url"])
    turns = [t for sid in cohort["ids"]["mixed"] for t in store.turns(sid)]
    store.close()
    rows = []
    for i, t in enumerate(turns):
        g = t.grade
        exact = {"eccs": "" if g.eccs is None else g.eccs, "question_type": g.question_type,
                 "epitome_explorations": g.epitome.explorations, "nurse_explore": int("explore" in g.nurse),
                 "flag_dismissive": int("dismissive" in g.flags)}
        rows.append({"session_id": t.session_id, "turn_id": t.turn_index, "rater": "ann", **exact})
        off = dict(exact)
        if i % 3 == 0 and g.eccs is not None:
            off["eccs"] = min(6, g.eccs + 1)
        if i % 4 == 0:
            off["question_type"] = "closed" if g.question_type == "open" else "open"
        rows.append({"session_id": t.session_id, "turn_id": t.turn_index, "rater": "ben", **off})
    path = tmp_path / "ratings.csv"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    report = run_agreement(path, engine.grader, database_url=cohort["url"], packs=packs)
    fields = {f.field: f for f in report.fields}
    assert report.raters == ["ann", "ben"] and report.items == len(turns)
    eccs = fields["eccs"]
    ann = next(p for p in eccs.grader_vs_humans if p.b == "ann")
    assert ann.kappa == pytest.approx(1.0) and ann.ccc == pytest.approx(1.0) and ann.exact == 1.0
    assert ann.weighting == "quadratic" and ann.threshold == 3 and ann.threshold_accuracy == 1.0
    ben = next(p for p in eccs.grader_vs_humans if p.b == "ben")
    assert ben.exact < 1 and ben.within_one == 1.0
    assert eccs.human_pairs[0].kappa == pytest.approx(ben.kappa)  # ann is the grader's mirror image
    assert eccs.human_mean["kappa"] == pytest.approx(ben.kappa, abs=1e-4)  # means are rounded to 4 places
    assert fields["question_type"].grader_vs_humans[0].weighting == "none"
    assert sum(map(sum, ann.confusion.matrix)) == ann.n
    # re-grading the rated turns with the same grader agrees just as well
    again = run_agreement(path, engine.grader, database_url=cohort["url"], packs=packs, current_grader=True)
    assert next(p for p in again.fields[0].grader_vs_humans if p.b == "ann").kappa == pytest.approx(1.0)
    paths = write_agreement(report, tmp_path / "ag")
    assert "human ceiling" in paths["html"].read_text() and json.loads(paths["json"].read_text())["raters"] == ["ann", "ben"]


def test_agreement_on_context_response_pairs(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text(
        "context,response,emotion,opportunity,eccs,question_type\n"
        "\"I'm scared it's my heart.\",\"You sound frightened. What worries you most?\",fear,cue,4,open\n"
        "\"I'm scared it's my heart.\",\"Okay. Any allergies?\",fear,cue,1,closed\n"
        "\"It started on Tuesday.\",\"What happened then?\",,none,,open\n")
    report = run_agreement(path, RuleGrader())
    eccs = report.fields[0]
    assert report.layout == "pairs" and eccs.grader_vs_humans[0].n == 2
    assert eccs.grader_vs_humans[0].exact == 1.0
    assert report.fields[1].grader_vs_humans[0].n == 3


# -- command line ---------------------------------------------------------------------------
def test_cli_report_and_module_entry(cohort, persona_dir, tmp_path, capsys):
    out = tmp_path / "report"
    assert bedside(["eval", "report", "--database-url", cohort["url"], "--persona-dir", str(persona_dir),
                    "--learner", "sim-empathic", "--out", str(out)]) == 0
    assert len(list(out.glob("session-*.html"))) == 3
    index = (out / "index.html").read_text()
    assert all(f'href="session-{sid}.html"' in index for sid in cohort["ids"]["empathic"])
    assert check_statements(json.loads((out / "xapi-statements.json").read_text())) == []
    assert (out / "turns.csv").exists() and (out / "sessions.csv").exists()

    assert eval_main(["csv", "--jsonl", str(FIXTURE), "--persona-dir", str(persona_dir), "--out", str(tmp_path / "c")]) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "c" / "sessions.csv").read_text())))
    assert [r["source_schema_version"] for r in rows] == ["0", "0"]
    assert eval_main(["cohort", "--database-url", cohort["url"], "--persona", "nobody", "--out",
                      str(tmp_path / "x.html")]) == 1
    assert "no sessions match" in capsys.readouterr().err


def test_python_dash_m_eval(persona_dir, tmp_path):
    out = tmp_path / "x.json"
    done = subprocess.run([sys.executable, "-m", "eval", "xapi", "--jsonl", str(FIXTURE), "--persona-dir",
                           str(persona_dir), "--out", str(out)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "8 xAPI statements" in done.stdout  # 6 turns + 2 sessions and check_statements(json.loads(out.read_text())) == []


def test_cli_simulate_stores_sessions(engine, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("server.engine.factory.build_engine", lambda settings: engine)
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    assert bedside(["simulate", "--database-url", url, "--persona", "demo", "--learner-style", "sympathetic",
                    "--sessions", "2", "--learner-id", "s-1"]) == 0
    store = open_store(url)
    sessions = store.list_sessions()
    assert [s.learner_id for s in sessions] == ["s-1", "s-1"] and all(s.status == "ended" for s in sessions)
    assert all(s.summary and s.summary["turns"] == s.turn_count for s in sessions)
    texts = [[t.learner_text for t in store.turns(s.id)] for s in sessions]
    store.close()
    assert texts[0] != texts[1]  # a fresh seed per session
    assert bedside(["simulate", "--database-url", url, "--persona", "nobody", "--learner-style", "mixed"]) == 2


def test_csv_cells_that_look_like_formulas_are_neutralised(metrics, tmp_path):
    """OWASP CSV injection: learner-controlled text that starts with = + - @ tab or CR arrives in a
    spreadsheet as text; numbers (negative ones too) stay numbers; the metrics keep the words."""
    from eval.export.csv_tables import Column, write_csv

    evil = ['=HYPERLINK("http://x.example","Click for your grade")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain"]
    cols = [Column("text", "", None), Column("number", "", None)]
    write_csv(tmp_path / "t.csv", cols, [[t, -0.5] for t in evil])
    with open(tmp_path / "t.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["text"] for r in rows] == ["'" + t for t in evil[:-1]] + ["plain"]
    assert all(r["number"] == "-0.5" for r in rows)
    # through the real tables: a session whose learner id is a formula
    m_evil = metrics[0].model_copy(update={"learner_id": "=cmd|' /C calc'!A0"})
    paths = write_tables([m_evil], tmp_path / "real")
    with open(paths["turns"], newline="") as fh:
        trows = list(csv.DictReader(fh))
    assert trows and all(r["learner_id"] == "'=cmd|' /C calc'!A0" for r in trows)
    assert m_evil.learner_id.startswith("=")  # the stored value is untouched
