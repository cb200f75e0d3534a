"""The educator page's API (issue 19, item 5): scores in the session list, abandoned sessions,
the cohort report as JSON with its filters, the CSV, xAPI and JSONL downloads, and the
educator token on all of them. The app runs in-process on a store seeded with hand-made
grades (tests/educator_seed.py), so every expected figure is worked out here by hand; the
browser side is tests/test_browser_educator.py."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from eval.export.xapi_check import check_statements
from eval.web.routes import router as cohort_router
from server.api.app import create_app
from server.api.plugins import plugin_routers
from server.persona.loader import PackRegistry
from server.store.sql import open_store
from tests.educator_seed import seed_session

TOKEN = "e" * 32
CHEST = "chest-pain-anxiety"
BEREAVED = "bereaved-daughter"
EXPORTS = ("/api/export/csv", "/api/export/xapi", "/api/export/jsonl")
EDUCATOR_ONLY = ("/api/sessions", "/api/cohort", *EXPORTS)


@pytest.fixture(scope="module")
def registry(persona_dir):
    return PackRegistry(persona_dir)


@pytest.fixture(scope="module")
def seeded(registry, tmp_path_factory):
    """Five sessions: ended long ago, idle half an hour, ended just now, in progress, and
    started five hours ago with no turn at all."""
    url = f"sqlite:///{tmp_path_factory.mktemp('educator') / 'bedside.db'}"
    store = open_store(url)
    chest, bereaved = registry.packs[CHEST], registry.packs[BEREAVED]
    ids = {
        "old": seed_session(store, chest, "ana", [4, 1, None, 5], concerns=1, idle=timedelta(days=3)),
        "idle": seed_session(store, chest, "ben", [2, None], end=False, idle=timedelta(minutes=30)),
        "recent": seed_session(store, bereaved, "ana", [3, 3]),
        "live": seed_session(store, chest, "cy", [None], end=False),
        "empty": seed_session(store, chest, "dee", [], end=False, started_ago=timedelta(hours=5)),
    }
    yield SimpleNamespace(store=store, url=url, ids=ids, chest=chest)
    store.close()


@pytest.fixture
def client(settings, registry, seeded):
    """A client on the seeded store; `client(minutes)` sets BEDSIDE_ABANDON_AFTER_MIN."""
    opened = []

    def make(abandon_after_min: float = 20) -> TestClient:
        s = settings.model_copy(update={"abandon_after_min": abandon_after_min})
        app = create_app(s, engine=SimpleNamespace(registry=registry), store=seeded.store, educator_token=TOKEN,
                         routers=[cohort_router])
        c = TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"})
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.close()


def by_id(rows: list[dict], key: str = "id") -> dict[str, dict]:
    return {r[key]: r for r in rows}


# -- scores in the session list ---------------------------------------------------------------

def test_the_session_list_carries_the_scores_of_ended_sessions(client, seeded):
    api = client()
    rows = by_id(api.get("/api/sessions").json())
    old = rows[seeded.ids["old"]]
    # ECCS 4, 1 and 5 on three turns that answered an opportunity (a fourth answered none):
    # mean 10/3, two at level 3 or more; one of the case's hidden concerns revealed
    assert old["scores"] == {"mean_eccs": 3.333, "opportunities_met": 2, "opportunities": 3, "concerns_found": 1,
                             "concerns_total": len(seeded.chest.hidden_concerns)}
    assert rows[seeded.ids["recent"]]["scores"]["opportunities_met"] == 2
    assert rows[seeded.ids["recent"]]["scores"]["concerns_found"] == 0
    # a session that has not ended has no stored summary, so no scores yet
    assert rows[seeded.ids["live"]]["scores"] is None and rows[seeded.ids["idle"]]["scores"] is None
    assert old["last_turn_at"] is not None and rows[seeded.ids["empty"]]["last_turn_at"] is None
    detail = api.get(f"/api/sessions/{seeded.ids['old']}").json()
    assert detail["session"]["scores"] == old["scores"]


# -- abandoned sessions -----------------------------------------------------------------------

@pytest.mark.parametrize("minutes, idle_status, empty_status", [(20, "abandoned", "abandoned"),
                                                                (60, "active", "abandoned"),
                                                                (0, "active", "active")])
def test_an_idle_session_reads_as_abandoned_past_the_threshold(client, seeded, minutes, idle_status, empty_status):
    rows = by_id(client(minutes).get("/api/sessions").json())
    status = {name: rows[sid]["status"] for name, sid in seeded.ids.items()}
    # idle 30 minutes; no turn and started 5 hours ago; ended ones stay ended however old
    assert status == {"old": "ended", "idle": idle_status, "recent": "ended", "live": "active", "empty": empty_status}
    detail = client(minutes).get(f"/api/sessions/{seeded.ids['idle']}").json()
    assert detail["session"]["status"] == idle_status


def test_a_resumed_abandoned_session_is_active_again_and_can_end(settings, registry, tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'b.db'}")
    pack = registry.packs[CHEST]
    sid = seed_session(store, pack, "eve", [3], end=False, idle=timedelta(hours=3))
    app = create_app(settings.model_copy(update={"abandon_after_min": 120}), engine=SimpleNamespace(registry=registry),
                     store=store, educator_token=TOKEN, routers=[])
    api = TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"})
    status = lambda: api.get(f"/api/sessions/{sid}").json()["session"]["status"]  # noqa: E731
    assert status() == "abandoned"
    # the learner comes back: their next turn is stored now, so nothing has to be taken back
    last = store.turns(sid)[-1]
    state = store.latest_state(sid)
    store.append_turn(sid, last.to_turn_result().model_copy(update={"turn_index": 2, "learner_text": "I'm back."}),
                      state.model_copy(update={"turn_index": 2}))
    assert status() == "active"
    from server.engine.summary import summarise
    store.end_session(sid, summarise(pack, state, [t.to_turn_result() for t in store.turns(sid)]).model_dump(mode="json"),
                      state)
    assert status() == "ended"
    api.close()
    store.close()


# -- the cohort report ------------------------------------------------------------------------

def test_the_cohort_report_counts_abandoned_sessions_apart_and_filters(client, seeded):
    api = client(20)
    report = api.get("/api/cohort").json()
    cohort = report["cohort"]
    assert report["abandon_after_min"] == 20
    assert cohort["sessions"] == 5 and cohort["learners"] == 4 and cohort["personas"] == 2
    overall = cohort["overall"]
    assert (overall["completed"], overall["abandoned"], overall["active"]) == (2, 2, 1)
    # every ECCS-graded turn: 4, 1, 5 (old), 2 (idle), 3, 3 (recent)
    assert overall["opportunities"] == 6 and overall["mean_eccs"] == 3.0
    learners = by_id(cohort["by_learner"], "key")
    assert (learners["ana"]["sessions"], learners["ana"]["completed"], learners["ben"]["abandoned"]) == (2, 2, 1)
    assert [s["session_id"] for s in report["sessions"]] == [seeded.ids[k] for k in ("old", "empty", "idle", "recent", "live")]
    old = by_id(report["sessions"], "session_id")[seeded.ids["old"]]
    assert (old["opportunities_met"], old["opportunities"], old["concerns_found"], old["status"]) == (2, 3, 1, "ended")

    def ids(**params) -> set[str]:
        r = api.get("/api/cohort", params=params)
        assert r.status_code == 200, r.text
        return {s["session_id"] for s in r.json()["sessions"]}

    pick = lambda *names: {seeded.ids[n] for n in names}  # noqa: E731
    assert ids(persona_id=BEREAVED) == pick("recent")
    assert ids(learner_id="ana") == pick("old", "recent")
    assert ids(learner_id=["ana", "ben"]) == pick("old", "recent", "idle")
    assert ids(learner_id="ana", persona_id=CHEST) == pick("old")
    now = datetime.now(UTC)
    assert ids(since=(now - timedelta(days=1)).isoformat()) == pick("empty", "idle", "recent", "live")
    assert ids(until=(now - timedelta(days=2)).isoformat()) == pick("old")
    assert ids(learner_id="nobody") == set()
    assert api.get("/api/cohort", params={"learner_id": "nobody"}).json()["cohort"]["sessions"] == 0


def test_bad_filters_are_refused_with_what_to_fix(client):
    api = client()
    now = datetime.now(UTC)
    r = api.get("/api/cohort", params={"since": now.isoformat(), "until": (now - timedelta(days=1)).isoformat()})
    assert r.status_code == 422 and "swap them" in r.json()["detail"]
    r = api.get("/api/export/csv", params={"since": "last tuesday"})
    assert r.status_code == 422 and "since" in r.text
    r = api.get("/api/export/csv", params={"table": "learners"})
    assert r.status_code == 422 and "table" in r.text
    r = api.get("/api/export/xapi", params={"xapi_base": "not an iri"})
    assert r.status_code == 422 and "xapi_base" in r.json()["detail"]


# -- downloads --------------------------------------------------------------------------------

def attachment_name(r) -> str:
    m = re.fullmatch(r'attachment; filename="(bedside-[a-z]+-\d{8}-\d{6}\.[a-z]+)"', r.headers["content-disposition"])
    assert m, r.headers["content-disposition"]
    return m.group(1)


def test_csv_download_of_the_filtered_sessions(client, seeded):
    api = client(20)
    r = api.get("/api/export/csv", params={"learner_id": "ana"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert attachment_name(r).endswith(".csv") and attachment_name(r).startswith("bedside-sessions-")
    rows = by_id(list(csv.DictReader(io.StringIO(r.text))), "session_id")
    assert set(rows) == {seeded.ids["old"], seeded.ids["recent"]}
    old = rows[seeded.ids["old"]]
    assert (old["status"], old["opportunities"], old["mean_eccs"], old["missed_opportunities"]) == ("ended", "3", "3.333", "1")

    r = api.get("/api/export/csv", params={"persona_id": CHEST, "table": "turns"})
    assert attachment_name(r).startswith("bedside-turns-")
    turns = list(csv.DictReader(io.StringIO(r.text)))
    assert len(turns) == 4 + 2 + 1  # old, idle, live; the empty session has no turn
    statuses = {row["session_id"]: row for row in csv.DictReader(io.StringIO(
        api.get("/api/export/csv", params={"persona_id": CHEST}).text))}
    assert statuses[seeded.ids["idle"]]["status"] == "abandoned"


def test_xapi_download_of_the_filtered_sessions(client, seeded):
    r = client().get("/api/export/xapi", params={"learner_id": "ana"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert attachment_name(r).endswith(".json")
    statements = r.json()
    assert check_statements(statements) == []
    assert len(statements) == (4 + 1) + (2 + 1)  # each turn, then its session
    assert {s["actor"]["account"]["name"] for s in statements} == {"ana"}
    r = client().get("/api/export/xapi", params={"persona_id": BEREAVED, "xapi_base": "https://lms.example.org/x"})
    assert all(s["object"]["id"].startswith("https://lms.example.org/x/personas/") for s in r.json())


def test_jsonl_download_of_the_filtered_sessions(client, seeded):
    now = datetime.now(UTC)
    r = client(20).get("/api/export/jsonl", params={"persona_id": CHEST, "since": (now - timedelta(days=1)).isoformat()})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    assert attachment_name(r).endswith(".jsonl")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [(line["session_id"], line["turn"]) for line in lines] == [
        (seeded.ids["idle"], 1), (seeded.ids["idle"], 2), (seeded.ids["live"], 1)]
    assert {line["session_id"]: line["session_status"] for line in lines} == {
        seeded.ids["idle"]: "abandoned", seeded.ids["live"]: "active"}
    assert client(20).get("/api/export/jsonl", params={"learner_id": "nobody"}).text == ""


# -- auth -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", EDUCATOR_ONLY)
def test_educator_routes_need_the_educator_token(client, path):
    api = client()
    r = api.get(path, headers={"Authorization": ""})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert api.get(path, headers={"Authorization": "Bearer not-the-token"}).status_code == 403
    # a learner's own session token reads that session, nothing else
    r = api.get(path, headers={"Authorization": "Bearer tok-ana"})
    assert r.status_code == 403 and "educator token" in r.json()["detail"]


def test_the_routes_come_through_the_bedside_api_entry_point(settings, registry, seeded):
    assert cohort_router in plugin_routers(), (
        "eval's routes are not registered in the installed metadata: reinstall (`pip install -e .`) so the "
        "entry-point group bedside.api in pyproject.toml lists them")
    app = create_app(settings, engine=SimpleNamespace(registry=registry), store=seeded.store, educator_token=TOKEN)
    paths = set(app.openapi()["paths"])
    assert {"/api/cohort", *EXPORTS} <= paths


def test_a_broken_plugin_is_logged_and_left_out(monkeypatch, caplog):
    import importlib.metadata

    broken = importlib.metadata.EntryPoint(name="broken", value="no_such_module_here:router", group="bedside.api")
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [broken])
    assert plugin_routers() == []
    assert "could not be loaded" in caplog.text and "no_such_module_here" in caplog.text


# -- the command-line reports -----------------------------------------------------------------

def test_the_cli_lists_and_reports_abandoned_sessions_apart(seeded, persona_dir, tmp_path, monkeypatch, capsys):
    from server.cli import main as bedside

    monkeypatch.setenv("BEDSIDE_ABANDON_AFTER_MIN", "20")
    assert bedside(["session", "list", "--database-url", seeded.url]) == 0
    listed = {line.split()[0]: line.split()[-1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert listed[seeded.ids["idle"]] == "abandoned" and listed[seeded.ids["live"]] == "active"
    assert listed[seeded.ids["old"]] == "ended"

    out = tmp_path / "cohort.html"
    assert bedside(["eval", "cohort", "--database-url", seeded.url, "--persona-dir", str(persona_dir),
                    "--out", str(out), "--no-progress"]) == 0
    page = out.read_text()
    assert "2 completed, 2 abandoned, 1 in progress" in page
    assert page.count('class="badge b-amber">abandoned<') == 2
