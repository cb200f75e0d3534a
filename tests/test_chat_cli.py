"""`bedside chat --script FILE --json`: the stable scripting interface."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from server.chat import SCRIPT_KEYS

ROOT = Path(__file__).resolve().parent.parent


def test_script_json_prints_one_object_per_turn(tmp_path):
    script = tmp_path / "turns.txt"
    script.write_text("# comments and blank lines are skipped\n\nHello, what brings you in today?\n"
                      "You sound angry.\nWhat's your blood type?\n")
    out = subprocess.run([sys.executable, "-m", "server.cli", "chat", "--persona", "chest-pain-anxiety",
                          "--script", str(script), "--json"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows[0]["turn"] == 0 and rows[0]["reply"].startswith("Hi. Thanks for seeing me.")
    turns = rows[1:]
    assert [r["turn"] for r in turns] == [1, 2, 3]
    for r in turns:
        assert tuple(r) == SCRIPT_KEYS
        assert {"trust", "distress", "emotion", "style"} <= set(r["state_after"])
        assert r["grade"]["grader_version"]
        assert r["realiser"] == "template" and r["fallback_reason"] is None  # which realiser worded it, and why not a model
    assert turns[0]["act"] == "open_question" and "chest_tightness" in turns[0]["disclosed"]
    assert turns[1]["reply"].startswith("I'm not angry. I'm scared.")
    assert turns[2]["disclosed"] == []


def test_unknown_persona_is_a_clear_error():
    out = subprocess.run([sys.executable, "-m", "server.cli", "chat", "--persona", "nobody", "--script", "-", "--json"],
                         input="hello\n", capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 2
    assert "unknown persona 'nobody'" in out.stderr and "chest-pain-anxiety" in out.stderr
