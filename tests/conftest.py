"""Shared fixtures: one persona directory, one engine, one live server per test run.

The persona directory holds the scaffolded `demo` pack, a deliberately broken pack and
copies of the repository's packs, so start-up refusal is exercised every run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from server.config import REPO_ROOT, Settings
from tests.postgres import pg_url_or_skip

BROKEN_PACK = "id: broken\ntitle: A pack missing most of its fields\n"


@pytest.fixture(scope="session")
def persona_dir(tmp_path_factory) -> Path:
    from server.cli import main as bedside

    d = tmp_path_factory.mktemp("personas")
    for pack in sorted((REPO_ROOT / "persona_packs").glob("*/persona.yaml")):
        shutil.copytree(pack.parent, d / pack.parent.name)
    if not (d / "demo").exists():
        assert bedside(["persona", "new", "demo", "--persona-dir", str(d)]) == 0
    (d / "broken").mkdir()
    (d / "broken" / "persona.yaml").write_text(BROKEN_PACK)
    return d


@pytest.fixture(scope="session")
def settings(persona_dir, tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"), persona_dir=persona_dir, educator_token=None,
                    database_url=None)


@pytest.fixture(scope="session")
def engine(settings):
    """The real engine (MiniLM and all), built once for the whole run."""
    from server.engine.factory import build_engine

    eng = build_engine(settings)
    eng.warm()
    return eng


@pytest.fixture(scope="session")
def live_server(persona_dir, tmp_path_factory):
    """A real `bedside serve` subprocess on a free port with its own data directory."""
    from server.api.launch import ServerProcess

    artifacts = os.environ.get("BEDSIDE_TEST_ARTIFACTS")  # scripts/test.sh keeps this directory
    log = Path(artifacts) / "live-server.log" if artifacts else None
    # the voice tests push recorded audio faster than real time to keep the suite short, so the
    # audio pace limit is off here; tests/test_limits.py checks it on a server of its own
    server = ServerProcess(tmp_path_factory.mktemp("server-data"), persona_dir, log_file=log,
                           env={"BEDSIDE_AUDIO_MAX_SPEED": "0"}).start()
    yield server
    server.stop()


@pytest.fixture
def server_store(live_server):
    """A second store on the live server's database, for checking what was really written."""
    from server.store.sql import open_store

    store = open_store(f"sqlite:///{live_server.data_dir / 'bedside.db'}")
    yield store
    store.close()


@pytest.fixture
def pg_url() -> str:
    """The test PostgreSQL URL, or a skip (a failure in CI): tests/postgres.py."""
    return pg_url_or_skip()
