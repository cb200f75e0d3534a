"""GET /readyz (server/api/readiness.py): ready only when the configured models are loaded and the
database answers; otherwise 503 naming each check that failed and how to fix it. /healthz stays
the liveness probe. The app runs in-process on a stub engine; the real server's /readyz is
checked in test_api.py."""

from __future__ import annotations

import socket
import threading
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from server.api import readiness
from server.config import Settings
from server.grading.rules import RuleGrader
from server.realise.template import TemplateRealiser
from server.speech.asr.factory import build_transcriber, clear_transcriber_cache
from server.speech.tts.factory import build_synthesizer
from server.store.sql import make_engine, open_store
from tests.app_clients import app_clients

CHECKS = ["database", "persona_packs", "grader", "realiser", "asr", "tts", "end_of_turn", "draining"]
SECRET = "s3cret-pw"


def closed_port() -> int:
    """A port that was free a moment ago: nobody listens there."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stub_engine(packs: int = 1, grader=None):
    registry = SimpleNamespace(packs={f"case-{i}": object() for i in range(packs)}, problems=[])
    return SimpleNamespace(registry=registry, grader=grader or RuleGrader(), realiser=TemplateRealiser())


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Backends that need no model files: the rules, the template, a remote transcriber (never
    called: readiness does not probe remote engines), no speech output, the silence detector."""
    return Settings(data_dir=tmp_path, persona_dir=tmp_path, database_url=None, grader="rules", realiser="template",
                    asr_backend="openai", asr_openai_base_url=f"http://127.0.0.1:{closed_port()}/v1",
                    tts_backend="none", turn_detector="silence")


@pytest.fixture
def app_for(settings):
    with app_clients() as open_client:
        def make(s: Settings = settings, engine=None, store=None, voice: bool = True) -> TestClient:
            if voice:  # what `bedside serve` loads before it serves (api/serve.py, _preload_voice)
                build_transcriber(s)
                build_synthesizer(s)
            return open_client(s, engine or stub_engine(), store)

        yield make
    clear_transcriber_cache()


def by_name(body: dict) -> dict[str, dict]:
    return {c["name"]: c for c in body["checks"]}


def test_ready_when_the_models_are_loaded_and_the_database_answers(app_for):
    response = app_for().get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and body["not_ready"] == []
    assert [c["name"] for c in body["checks"]] == CHECKS
    assert all(c["ready"] and c["fix"] is None for c in body["checks"])
    assert by_name(body)["database"]["detail"] == "sqlite answered SELECT 1"


def test_ready_on_postgresql(app_for, settings, pg_url):
    s = settings.model_copy(update={"database_url": pg_url})
    response = app_for(s, store=open_store(pg_url)).get("/readyz")
    assert response.status_code == 200, response.text
    assert by_name(response.json())["database"]["detail"] == "postgresql answered SELECT 1"


def test_a_draining_replica_is_not_ready(app_for):
    """After SIGTERM the proxy must stop sending learners here while its turns finish."""
    client = app_for()
    client.app.state.services.connections.draining = True
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["not_ready"] == ["draining"], response.text


def test_an_unreachable_database_is_503_naming_the_database(app_for, settings):
    """A PostgreSQL server that is not there (a closed port): the store was opened while the
    database was up, then lost it, as when the database restarts under a running replica."""
    store = open_store(settings.resolved_database_url())
    store.engine.dispose()
    store.engine = make_engine(f"postgresql+psycopg://bedside:{SECRET}@127.0.0.1:{closed_port()}/bedside"
                               "?connect_timeout=2")
    client = app_for(store=store)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready" and body["not_ready"] == ["database"]
    database = by_name(body)["database"]
    assert not database["ready"] and "cannot reach the database (postgresql)" in database["detail"]
    assert "BEDSIDE_DATABASE_URL" in database["fix"]
    assert SECRET not in response.text
    assert all(c["ready"] for c in body["checks"] if c["name"] != "database")
    assert client.get("/healthz").status_code == 200  # liveness is not readiness: the process is fine


def test_a_database_that_hangs_is_503_within_the_time_limit_with_one_question_in_flight(app_for, settings,
                                                                                         monkeypatch):
    monkeypatch.setattr(readiness, "DB_TIMEOUT_S", 0.2)
    store = open_store(settings.resolved_database_url())
    release, calls = threading.Event(), []

    def hanging_ping() -> None:
        calls.append(1)
        release.wait(10)

    store.ping = hanging_ping
    client = app_for(store=store)
    try:
        for _ in range(3):
            response = client.get("/readyz")
            assert response.status_code == 503 and response.json()["not_ready"] == ["database"]
            assert "did not answer SELECT 1 within 0.2 s" in by_name(response.json())["database"]["detail"]
        assert len(calls) == 1  # later probes wait on the same question: no thread per probe piles up
    finally:
        release.set()
    assert client.get("/readyz").status_code == 200  # the database answered at last


def test_missing_models_are_named_with_how_to_fix_them(app_for, settings):
    """The trained grader fell back to the rules (its artefact missing), no pack loaded, and the
    voice never loaded (as when `bedside serve` logs 'voice is unavailable')."""
    s = settings.model_copy(update={"grader": "trained", "turn_detector": "semantic", "tts_backend": "openai",
                                    "tts_openai_base_url": f"http://127.0.0.1:{closed_port()}/v1"})
    client = app_for(s, engine=stub_engine(packs=0, grader=RuleGrader()), voice=False)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["not_ready"] == ["persona_packs", "grader", "asr", "tts", "end_of_turn"]
    checks = by_name(body)
    assert "artefact is missing" in checks["grader"]["detail"] and "BEDSIDE_GRADER=rules" in checks["grader"]["fix"]
    assert "BEDSIDE_PERSONA_DIR" in checks["persona_packs"]["fix"]
    assert "BEDSIDE_ASR_OPENAI_BASE_URL" in checks["asr"]["fix"]
    assert "BEDSIDE_TTS_OPENAI_BASE_URL" in checks["tts"]["fix"]
    assert "BEDSIDE_TURN_DETECTOR=silence" in checks["end_of_turn"]["fix"]
    assert all(c["fix"] for c in body["checks"] if not c["ready"])


def test_a_judge_without_its_server_and_a_dialogue_model_that_did_not_load(app_for, settings):
    s = settings.model_copy(update={"grader": "judge", "realiser": "transformers"})
    engine = stub_engine()
    engine.realiser = SimpleNamespace(model=SimpleNamespace(model=None, name="bundled"))  # warm() failed
    body = app_for(s, engine=engine).get("/readyz").json()
    assert body["not_ready"] == ["grader", "realiser"]
    checks = by_name(body)
    assert "BEDSIDE_OPENAI_BASE_URL" in checks["grader"]["fix"]
    assert "bedside models prepare" in checks["realiser"]["fix"]


def test_readyz_is_documented_in_the_openapi_schema(app_for):
    paths = app_for().get("/openapi.json").json()["paths"]
    assert set(paths["/readyz"]["get"]["responses"]) >= {"200", "503"}
