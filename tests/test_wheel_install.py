"""A built wheel works outside the checkout: it carries the persona packs and the web client,
and keeps its data in ./data of the working directory (issue 17, item 5).

The wheel is built from this tree and installed with --no-deps into a folder of its own; it is
then run from another working directory with that folder first on the path, so `server` comes
from the wheel, never the checkout (the dependencies come from this environment).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys
from pathlib import Path
import server
from server.config import Settings, IN_CHECKOUT
from server.api.app import WEB_CLIENT
from server.persona.loader import PackRegistry
s = Settings()
print(json.dumps({"package": server.__file__, "in_checkout": IN_CHECKOUT, "data_dir": str(s.data_dir),
                  "models_dir": str(s.models_dir), "persona_dir": str(s.persona_dir),
                  "packs": sorted(PackRegistry(s.persona_dir).packs), "index": (WEB_CLIENT / "index.html").is_file(),
                  "web": str(WEB_CLIENT)}))
"""


def run(args: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def source_copy(dest: Path) -> Path:
    """The checkout's files (tracked, and new ones not ignored), links kept as links: the build
    writes build/ and *.egg-info into its source, and an egg-info left in the checkout would
    shadow the installed package's metadata (its entry points) for anything run from there."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src, out = REPO / rel, dest / rel
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree
        out.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            out.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, out)
    return dest


def test_a_wheel_installed_outside_the_checkout_finds_its_packs_and_web_client_and_keeps_data_in_cwd(tmp_path):
    source = source_copy(tmp_path / "source")
    built = run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q",
                 "-w", str(tmp_path / "dist")], cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    wheel, = (tmp_path / "dist").glob("bedside-*.whl")
    site = tmp_path / "site"
    installed = run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")} | {"PYTHONPATH": str(site)}
    probe = run([sys.executable, "-c", PROBE], cwd=work, env=env)
    assert probe.returncode == 0, probe.stderr
    got = json.loads(probe.stdout.strip().splitlines()[-1])
    assert got["package"].startswith(str(site)) and not got["in_checkout"]
    assert got["data_dir"] == str(work / "data") and got["models_dir"] == str(work / "data" / "models")
    assert got["persona_dir"].startswith(str(site)) and got["web"].startswith(str(site)) and got["index"]
    shipped = sorted(p.name for p in (REPO / "persona_packs").iterdir() if (p / "persona.yaml").is_file())
    assert got["packs"] == shipped
    validated = run([sys.executable, "-m", "server.cli", "persona", "validate"], cwd=work, env=env)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    # the evaluation commands arrive through the wheel's entry point, not an import in the server
    evaluated = run([sys.executable, "-m", "server.cli", "eval", "--help"], cwd=work, env=env)
    assert evaluated.returncode == 0 and "regrade" in evaluated.stdout, evaluated.stderr
