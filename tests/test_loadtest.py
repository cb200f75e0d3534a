"""`bedside loadtest`: the report's structure, the storage check and the clear setup errors.

The end-to-end runs use a real `bedside serve` with a tiny configuration and stress pacing; no
figure is asserted, only what the report says about turns, errors and stages. The storage check
and the verdict are also driven with made-up records, so a lost turn is known to fail the run.
"""

from __future__ import annotations

import json
import random
import shutil

import pytest

from eval.loadtest.lines import GREETINGS, session_lines
from eval.loadtest.pacing import Pacing, ThinkTime, session_rng
from eval.loadtest.readback import Stored
from eval.loadtest.records import SessionRecord
from eval.loadtest.report import LoadReport, storage_check, verdict
from eval.loadtest.target import SetupError, Target
from server.cli import main as bedside
from tests.ci import unless_ci

TOKEN = "loadtest-test-educator-token-0123456789"
SESSION_CAP = 3  # the server's max_sessions_per_client: one session more gets too_many_sessions


@pytest.fixture(scope="module")
def server(persona_dir, tmp_path_factory):
    from server.api.launch import ServerProcess

    env = {"BEDSIDE_EDUCATOR_TOKEN": TOKEN, "BEDSIDE_MAX_SESSIONS_PER_CLIENT": str(SESSION_CAP)}
    with ServerProcess(tmp_path_factory.mktemp("loadtest-data"), persona_dir, env=env) as running:
        yield running


def loadtest(capsys, *argv: str) -> tuple[int, dict | None, str]:
    """Run `bedside loadtest ... --json` in-process: (exit code, the report or None, stderr)."""
    code = bedside(["loadtest", *argv, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


# -- end to end --------------------------------------------------------------------------------

@pytest.mark.slow
def test_text_run_stores_every_acknowledged_turn(server, capsys, monkeypatch):
    monkeypatch.setenv("BEDSIDE_EDUCATOR_TOKEN", TOKEN)  # read back as the educator
    code, report, err = loadtest(capsys, server.url, "--sessions", "2", "--turns", "2", "--pacing", "none",
                                 "--persona", "demo")
    assert code == 0, err
    LoadReport.model_validate(report)
    assert report["passed"] and report["problems"] == []
    assert report["sessions_started"] == 2
    assert report["turns_attempted"] == report["turns_acknowledged"] == report["turns_stored"] == 4
    assert report["turns_lost"] == [] and report["sessions_unverified"] == {} and report["errors"] == {}
    stages = report["stages"]
    assert {"client.round_trip", "server.turn", "server.engine", "server.commit", "server.grade",
            "server.realise"} <= set(stages)
    assert all(f["n"] == 4 and f["p50_ms"] <= f["p95_ms"] <= f["max_ms"] for f in stages.values())
    assert report["config"]["personas"] == ["demo"] and report["server"]["database"] == "sqlite"


@pytest.mark.slow
def test_voice_run_reports_voice_to_voice_and_server_stages(server, capsys, tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip(unless_ci("espeak-ng is not installed: runs where it is (apt-get install espeak-ng; scripts/setup.sh does), and always in CI"))
    code, report, err = loadtest(capsys, server.url, "--mode", "voice", "--sessions", "1", "--turns", "1",
                                 "--pacing", "none", "--persona", "chest-pain-anxiety", "--audio-cache", str(tmp_path))
    assert code == 0, err
    assert report["turns_acknowledged"] == report["turns_stored"] == 1 and report["turns_lost"] == []
    assert {"client.voice_to_voice", "server.voice_to_voice", "server.endpoint", "server.asr", "server.engine_commit",
            "server.tts_first_audio", "server.commit"} <= set(report["stages"])
    assert list(tmp_path.glob("*.pcm")), "the learner line was not cached"


@pytest.mark.slow
def test_errors_over_the_threshold_fail_the_run_and_are_counted_by_code(server, capsys):
    # one session more than the server allows from one address, all open at once (each waits 1 s
    # before its turns, so none has ended when the last one starts)
    code, report, err = loadtest(capsys, server.url, "--sessions", str(SESSION_CAP + 1), "--turns", "1",
                                 "--think-s", "1", "--persona", "demo")
    assert code == 1
    assert report["errors"] == {"too_many_sessions": 1}
    assert report["sessions_started"] == SESSION_CAP and report["turns_lost"] == []
    assert not report["passed"] and any("error rate" in p for p in report["problems"])
    assert "FAILED" in err


@pytest.mark.slow
def test_a_refused_educator_token_stops_the_run_before_any_load(server, capsys):
    code, report, err = loadtest(capsys, server.url, "--educator-token", "not-the-token")
    assert code == 2 and report is None
    assert "refused the educator token" in err and "--educator-token" in err


@pytest.mark.slow
def test_an_unknown_persona_names_the_loaded_ones(server, capsys):
    code, _, err = loadtest(capsys, server.url, "--persona", "no-such-case")
    assert code == 2 and "no-such-case" in err and "demo" in err


def test_a_url_without_a_scheme_or_server_is_a_clear_error(capsys):
    from server.api.launch import free_port

    code, report, err = loadtest(capsys, "localhost:8000")
    assert code == 2 and report is None and "must start with http://" in err
    code, _, err = loadtest(capsys, f"http://127.0.0.1:{free_port()}")
    assert code == 2 and "cannot reach" in err and "bedside serve" in err
    code, _, err = loadtest(capsys, f"http://proxy:s3cret@127.0.0.1:{free_port()}")  # a password is never printed
    assert code == 2 and "cannot reach http://proxy:***@127.0.0.1" in err and "s3cret" not in err


def test_bad_flags_are_clear_errors(capsys):
    code, _, err = loadtest(capsys, "http://127.0.0.1:1", "--think-s", "ten")
    assert code == 2 and "--think-s" in err and "4-10" in err
    code, _, err = loadtest(capsys, "http://127.0.0.1:1", "--sessions", "0")
    assert code == 2 and "--sessions" in err


# -- the storage check and the verdict -----------------------------------------------------------

def _report(records: list[SessionRecord], stored: list[Stored], errors: dict[str, int] | None = None) -> LoadReport:
    found, lost, unverified, extra = storage_check(records, stored)
    errors = errors or {}
    report = LoadReport.model_validate({
        "config": {"url": "http://x", "mode": "text", "sessions": len(records), "turns_per_session": 2,
                   "pacing": "none", "think_s": None, "ramp_s": 0, "seed": 0, "personas": ["demo"]},
        "server": {}, "machine": {"cpus": 2, "load_before": [0, 0, 0], "load_after": [0, 0, 0]}, "wall_s": 1.0,
        "sessions_started": len(records), "turns_attempted": 2 * len(records),
        "turns_acknowledged": sum(len(r.acknowledged) for r in records), "turns_stored": found, "turns_lost": lost,
        "sessions_unverified": unverified, "stored_unacknowledged": extra, "errors": errors,
        "error_rate": sum(errors.values()) / (2 * len(records)), "max_error_rate": 0.01,
        "throughput_turns_per_s": 1.0, "stages": {}, "problems": []})
    report.problems = verdict(report)
    return report


def _record(session_id: str, acknowledged: set[int]) -> SessionRecord:
    return SessionRecord(0, "demo", "l", session_id=session_id, acknowledged=acknowledged)


def test_an_acknowledged_turn_missing_from_the_store_is_reported_as_lost():
    report = _report([_record("a", {1, 2}), _record("b", {1, 2})], [Stored("a", {1, 2}), Stored("b", {1})])
    assert [(t.session_id, t.turn_id) for t in report.turns_lost] == [("b", 2)]
    assert report.turns_stored == 3
    assert report.problems and report.problems[0].startswith("LOST TURNS") and "b turn 2" in report.problems[0]


def test_the_printed_report_names_the_lost_turns_and_the_verdict():
    from eval.loadtest.report import render

    lost = render(_report([_record("a", {1, 2})], [Stored("a", {1})]))
    assert "1 lost" in lost and "FAILED" in lost and "a turn 2" in lost
    assert render(_report([_record("a", {1})], [Stored("a", {1})])).endswith("PASSED")


def test_a_complete_store_passes_and_extra_stored_turns_are_not_a_loss():
    report = _report([_record("a", {1})], [Stored("a", {1, 2})])  # turn 2's reply never arrived (a timeout)
    assert report.problems == [] and report.turns_stored == 1 and report.stored_unacknowledged == 1


def test_a_session_that_cannot_be_read_back_fails_the_run():
    report = _report([_record("a", {1})], [Stored("a", None, "read-back answered HTTP 500")])
    assert report.sessions_unverified == {"a": "read-back answered HTTP 500"}
    assert any("could not be read back" in p for p in report.problems)


def test_errors_within_the_threshold_pass():
    assert _report([_record("a", {1, 2})] * 60, [Stored("a", {1, 2})], {"busy": 1}).problems == []
    assert _report([_record("a", {1, 2})] * 10, [Stored("a", {1, 2})], {"busy": 1}).problems


# -- parts ---------------------------------------------------------------------------------------

def test_urls_map_to_the_websocket_of_the_same_server_or_proxy():
    assert Target.parse("http://127.0.0.1:8000/").ws_url == "ws://127.0.0.1:8000/ws/session"
    assert Target.parse("https://bedside.example/app").ws_url == "wss://bedside.example/app/ws/session"
    for bad in ("127.0.0.1:8000", "ftp://x", "http://", "http://x:port", "http://x/?a=1"):
        with pytest.raises(SetupError):
            Target.parse(bad)


def test_think_time_parses_a_range_or_one_number_and_is_seeded():
    assert ThinkTime.parse("4-10") == ThinkTime(4, 10) and ThinkTime.parse("6") == ThinkTime(6, 6)
    for bad in ("ten", "10-4", "-1", "4-"):
        with pytest.raises(ValueError, match="--think-s"):
            ThinkTime.parse(bad)
    pacing = Pacing("realistic", ThinkTime(4, 10))
    a = [pacing.think_s(session_rng(7, 3)) for _ in range(3)]
    assert a == [pacing.think_s(session_rng(7, 3)) for _ in range(3)] and all(4 <= x <= 10 for x in a)
    assert Pacing("none", ThinkTime(4, 10)).think_s(random.Random(0)) == 0.0


def test_a_session_greets_first_and_does_not_repeat_itself():
    lines = session_lines(12, session_rng(0, 0))
    assert lines[0] in GREETINGS and len(set(lines)) == 12
    assert lines == session_lines(12, session_rng(0, 0)) != session_lines(12, session_rng(0, 1))
    assert len(session_lines(60, session_rng(0, 0))) == 60
