"""The case editor's API (/api/cases): live checks with paths, saving that keeps the author's
comments, the history of versions, try-it on an unsaved draft, and the pack version every
session records. The app runs in-process on the shared engine's models, over a persona
directory of its own (saves must not touch the other tests' packs)."""

from __future__ import annotations

import copy
import shutil

import pytest
from fastapi.testclient import TestClient

from server.api.app import create_app
from server.config import REPO_ROOT, Settings
from server.engine.patient import Engine
from server.persona.loader import PackRegistry, pack_version
from server.store.sql import open_store

TOKEN = "case-editor-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CASE = "chest-pain-anxiety"
COMMENT = "# The key teaching moment is a half-finished remark about his dad"


def editor_app(engine, tmp_path_factory, store_dir: str):
    """An app over a persona directory of its own (holding CASE), on the session engine's models:
    nothing is loaded twice. Returns (app, persona dir, the app's engine, its store)."""
    packs = tmp_path_factory.mktemp(f"{store_dir}-packs")
    shutil.copytree(REPO_ROOT / "persona_packs" / CASE, packs / CASE)
    settings = Settings(data_dir=tmp_path_factory.mktemp(f"{store_dir}-data"), persona_dir=packs, educator_token=None,
                        database_url=None)
    own = Engine(PackRegistry(packs), engine.embedder, engine.grader, engine.realiser)
    store = open_store(settings.resolved_database_url())
    return create_app(settings, engine=own, store=store, educator_token=TOKEN), packs, own, store


@pytest.fixture(scope="module")
def setup(engine, tmp_path_factory):
    app, packs, own, store = editor_app(engine, tmp_path_factory, "editor")
    with TestClient(app) as client:
        yield client, packs, own
    store.close()


def read(client, case_id=CASE) -> dict:
    r = client.get(f"/api/cases/{case_id}", headers=AUTH)
    assert r.status_code == 200, r.text
    return r.json()


def test_every_cases_endpoint_needs_the_educator_token(setup):
    client, _, _ = setup
    calls = [("GET", "/api/cases"), ("GET", "/api/cases/schema"), ("GET", "/api/cases/template"), ("GET", f"/api/cases/{CASE}"),
             ("POST", "/api/cases/check"), ("POST", "/api/cases/try"), ("PUT", f"/api/cases/{CASE}"),
             ("GET", f"/api/cases/{CASE}/versions"), ("POST", f"/api/cases/{CASE}/versions/20250101T000000000000Z-00000000/restore")]
    for method, path in calls:
        assert client.request(method, path, json={}).status_code == 401, path
        assert client.request(method, path, json={}, headers={"Authorization": "Bearer learner-token"}).status_code == 403, path


def test_ids_that_could_leave_the_persona_directory_are_refused(setup):
    client, packs, _ = setup
    for bad in ["..", "..%2F..%2Fetc", "Chest", "a.b", "%2Fetc%2Fpasswd", "x%00"]:
        r = client.get(f"/api/cases/{bad}", headers=AUTH)
        assert r.status_code in (404, 422), (bad, r.status_code)
        assert r.status_code == 404 or "id" in r.text
    r = client.put("/api/cases/..", headers=AUTH, json={"yaml": "id: x"})
    assert r.status_code in (404, 405, 422)
    r = client.get(f"/api/cases/{CASE}/versions/..%2F..%2Fpersona", headers=AUTH)
    assert r.status_code in (404, 422)
    assert sorted(p.name for p in packs.iterdir()) == [CASE]


def test_check_returns_schema_and_reference_errors_with_their_paths(setup):
    client, _, _ = setup
    data = read(client)["data"]
    data["facts"][0]["answers"]["open"] = ""
    data["facts"][1]["gate"] = {"requires": ["disclosed:no_such_fact"]}
    data["identity"]["agee"] = 40
    body = client.post("/api/cases/check", headers=AUTH, json={"data": data}).json()
    paths = {p["path"]: p for p in body["problems"]}
    assert not body["ok"]
    assert {"facts.0.answers.open", "facts.1.gate.requires.0", "identity.agee"} <= set(paths)
    assert "no fact 'no_such_fact'" in paths["facts.1.gate.requires.0"]["message"]
    assert "did you mean 'age'" in paths["identity.agee"]["hint"]
    assert paths["facts.0.answers.open"]["line"] is None  # JSON has no lines
    # the same as YAML text: problems carry their line
    text = read(client)["yaml"].replace("  age: 46\n", "  age: old\n")
    body = client.post("/api/cases/check", headers=AUTH, json={"yaml": text}).json()
    (age,) = [p for p in body["problems"] if p["path"] == "identity.age"]
    assert text.splitlines()[age["line"] - 1].strip() == "age: old"
    assert body["data"]["identity"]["age"] == "old"
    # fixed: no problems
    fixed = read(client)["data"]
    assert client.post("/api/cases/check", headers=AUTH, json={"data": fixed}).json() == {"ok": True, "problems": [], "data": None, "report": None}


def test_check_refuses_unsafe_or_oversized_yaml_with_a_clear_error(setup):
    client, _, _ = setup
    bomb = "a: &x [1, 2]\nb: *x\n"
    body = client.post("/api/cases/check", headers=AUTH, json={"yaml": bomb}).json()
    assert "anchors and aliases" in body["problems"][0]["message"]
    tagged = "!!python/object/apply:os.system ['echo hacked']\n"
    body = client.post("/api/cases/check", headers=AUTH, json={"yaml": tagged}).json()
    assert not body["ok"] and body["problems"]
    assert client.post("/api/cases/check", headers=AUTH, json={"yaml": "x: " + "y" * 1_000_001}).status_code == 422
    both = client.post("/api/cases/check", headers=AUTH, json={"yaml": "a: 1", "data": {}})
    assert both.status_code == 422 and "exactly one of" in both.text


def test_full_check_reports_reachability_and_coverage(setup):
    client, _, _ = setup
    data = read(client)["data"]
    body = client.post("/api/cases/check", headers=AUTH, json={"data": data, "full": True}).json()
    report = body["report"]
    assert report["errors"] == [] and report["simulated_turns"] > 0 and 0 < report["covered_share"] <= 1
    assert "fear_like_father" in report["reached"]
    # an opportunity that can never come up is an error
    broken = copy.deepcopy(data)
    opp = broken["empathic_opportunities"][0]
    opp["trigger"] = {"on": "turn", "turn": 500}
    body = client.post("/api/cases/check", headers=AUTH, json={"data": broken, "full": True}).json()
    assert body["problems"] == [] and not body["ok"]
    assert any(f"opportunity '{opp['id']}' is never raised" in e for e in body["report"]["errors"])


def test_try_it_chats_with_an_unsaved_draft_and_stores_nothing(setup):
    client, packs, app_engine = setup
    data = read(client)["data"]
    data["visit"]["opening_line"] = "Hello. I am the edited opening line."
    before = (packs / CASE / "persona.yaml").read_text()
    sessions = client.get("/api/sessions", headers=AUTH).json()
    opening = client.post("/api/cases/try", headers=AUTH, json={"data": data}).json()
    assert opening["opening"] and opening["reply"].startswith("Hello. I am the edited opening line.")
    assert opening["pack_version"].startswith("draft:")
    turn = client.post("/api/cases/try", headers=AUTH, json={"data": data, "state": opening["state"],
                                                             "text": "That sounds frightening. What worries you most?"}).json()
    assert turn["reply"] and turn["grade"]["grader_version"] and turn["act"]
    assert turn["state"]["turn_index"] == 1
    assert (packs / CASE / "persona.yaml").read_text() == before
    assert client.get("/api/sessions", headers=AUTH).json() == sessions
    assert app_engine.pack(CASE).visit.opening_line != data["visit"]["opening_line"]  # the live case is untouched
    # an invalid draft cannot be tried: the problems say why
    data["facts"][0]["answers"]["open"] = ""
    r = client.post("/api/cases/try", headers=AUTH, json={"data": data})
    assert r.status_code == 422 and r.json()["problems"][0]["path"] == "facts.0.answers.open"


def test_save_keeps_comments_lists_versions_and_restores(setup):
    client, packs, app_engine = setup
    case = read(client)
    path = packs / CASE / "persona.yaml"
    assert COMMENT in case["yaml"] and case["pack_version"] == pack_version(path.read_bytes())
    data = case["data"]
    data["facts"][0]["answers"]["open"] = "A new open answer, written in the editor."
    r = client.put(f"/api/cases/{CASE}", headers=AUTH,
                   json={"data": data, "base_yaml": case["yaml"], "expected_version": case["pack_version"]})
    assert r.status_code == 200, r.text
    saved = r.json()
    text = path.read_text()
    assert COMMENT in text and '      open: "A new open answer, written in the editor."' in text
    # only the edited line differs from the original
    changed = [(a, b) for a, b in zip(case["yaml"].splitlines(), text.splitlines()) if a != b]
    assert len(changed) == 1 and len(text.splitlines()) == len(case["yaml"].splitlines())
    assert saved["pack_version"] == pack_version(text) == saved["current"]
    (old,) = saved["versions"]
    assert old["pack_version"] == case["pack_version"]
    assert (packs / ".history" / CASE / f"{old['version_id']}.yaml").read_text() == case["yaml"]
    # the running registry has the new pack at once
    assert app_engine.pack(CASE).facts[0].answers.open == "A new open answer, written in the editor."
    assert app_engine.registry.version(CASE) == saved["pack_version"]
    listed = client.get(f"/api/cases/{CASE}/versions", headers=AUTH).json()
    assert [v["version_id"] for v in listed["versions"]] == [old["version_id"]]
    shown = client.get(f"/api/cases/{CASE}/versions/{old['version_id']}", headers=AUTH).json()
    assert shown["yaml"] == case["yaml"]
    # a save from the stale version is refused, not merged blindly
    stale = client.put(f"/api/cases/{CASE}", headers=AUTH, json={"yaml": case["yaml"], "expected_version": case["pack_version"]})
    assert stale.status_code == 409 and "changed since you opened it" in stale.json()["detail"]
    # restore: the old text is current again, and the replaced one joins the history
    restored = client.post(f"/api/cases/{CASE}/versions/{old['version_id']}/restore", headers=AUTH).json()
    assert path.read_text() == case["yaml"] and restored["current"] == case["pack_version"]
    assert len(restored["versions"]) == 2 and restored["versions"][0]["pack_version"] == saved["pack_version"]
    assert app_engine.pack(CASE).facts[0].answers.open != "A new open answer, written in the editor."


def test_invalid_save_is_refused_and_nothing_is_written(setup):
    client, packs, _ = setup
    case = read(client)
    before = sorted(p.name for p in (packs / ".history" / CASE).glob("*")) if (packs / ".history" / CASE).exists() else []
    data = case["data"]
    data["checklist"][0]["facts"] = ["no_such_fact"]
    r = client.put(f"/api/cases/{CASE}", headers=AUTH, json={"data": data, "base_yaml": case["yaml"]})
    assert r.status_code == 422
    assert r.json()["problems"][0]["path"] == "checklist.0.facts.0" and "was not saved" in r.json()["detail"]
    assert (packs / CASE / "persona.yaml").read_text() == case["yaml"]
    after = sorted(p.name for p in (packs / ".history" / CASE).glob("*")) if (packs / ".history" / CASE).exists() else []
    assert after == before
    # an id that is not the case's id
    data = read(client)["data"]
    data["id"] = "other-case"
    r = client.put(f"/api/cases/{CASE}", headers=AUTH, json={"data": data})
    assert r.status_code == 422 and r.json()["problems"][0]["path"] == "id"


def test_copy_saves_a_new_case_that_learners_can_pick(setup):
    client, packs, app_engine = setup
    case = read(client)
    data = {**case["data"], "id": "chest-pain-copy", "title": "A copy of the chest pain case"}
    r = client.put("/api/cases/chest-pain-copy", headers=AUTH, json={"data": data, "base_yaml": case["yaml"], "create": True})
    assert r.status_code == 200, r.text
    text = (packs / "chest-pain-copy" / "persona.yaml").read_text()
    assert COMMENT in text and "id: chest-pain-copy" in text
    assert "chest-pain-copy" in {p["id"] for p in client.get("/api/personas").json()["personas"]}
    # creating it again is refused: the id is taken
    again = client.put("/api/cases/chest-pain-copy", headers=AUTH, json={"data": data, "create": True})
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    listed = client.get("/api/cases", headers=AUTH).json()
    assert {"chest-pain-copy", CASE} <= {c["id"] for c in listed["cases"]}
    taken = client.put("/api/cases/template", headers=AUTH, json={"data": {**data, "id": "template"}, "create": True})
    assert taken.status_code == 422 and "choose another id" in taken.json()["detail"]
    template = client.get("/api/cases/template", headers=AUTH).json()
    assert template["data"]["id"] == "new-case" and "# Bedside persona pack" in template["yaml"]


def _start_session(client, persona: str) -> str:
    with client.websocket_connect("/ws/session") as ws:
        ws.send_json({"type": "session.start", "persona_id": persona, "learner_id": "version-check"})
        while (msg := ws.receive_json())["type"] != "session.started":
            pass
        ws.send_json({"type": "session.end"})
        while ws.receive_json()["type"] != "session.summary":
            pass
    return msg["session_id"]


def test_sessions_record_the_pack_version_they_ran_against(setup):
    client, packs, _ = setup
    first = _start_session(client, CASE)
    v1 = pack_version((packs / CASE / "persona.yaml").read_bytes())
    detail = client.get(f"/api/sessions/{first}", headers=AUTH).json()
    assert detail["session"]["pack_version"] == v1
    case = read(client)
    case["data"]["title"] = "A retitled case"
    saved = client.put(f"/api/cases/{CASE}", headers=AUTH, json={"data": case["data"], "base_yaml": case["yaml"],
                                                               "expected_version": case["pack_version"]}).json()
    second = _start_session(client, CASE)
    assert client.get(f"/api/sessions/{second}", headers=AUTH).json()["session"]["pack_version"] == saved["pack_version"] != v1
    listed = {s["id"]: s["pack_version"] for s in client.get("/api/sessions", headers=AUTH).json()}
    assert listed[first] == v1 and listed[second] == saved["pack_version"]


def test_educator_cases_address_redirects_to_the_editor(setup):
    client, _, _ = setup
    r = client.get("/educator/cases", follow_redirects=False)
    assert r.status_code in (302, 307) and r.headers["location"] == "/#/educator/cases"
