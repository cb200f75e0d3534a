"""Helpers for the browser tests: Debian's Chromium driven by the Python playwright
package (nothing is installed at test time), a learner utterance synthesised with
espeak-ng for Chromium's fake microphone, and the artefacts directory for screenshots."""

from __future__ import annotations

import os
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from server.config import REPO_ROOT
from tests.ci import unless_ci

CHROMIUM = "/usr/bin/chromium"
BASE_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1360, "height": 900}
PHONE = {"width": 375, "height": 812}


def playwright_or_skip():
    """The playwright sync API. Without the package (a checkout set up without the dev extras)
    the module is skipped and says how to run it; in CI (where `make test` installs the dev
    extras) a missing package is a failure, so the browser tests always run there."""
    try:
        import playwright.sync_api as api
    except ImportError:
        import pytest
        pytest.skip(unless_ci("playwright is not installed: run `make test` (it installs the dev extras) "
                              "or `pip install -e .[dev]`"), allow_module_level=True)
    return api


def artifacts_dir() -> Path:
    d = Path(os.environ.get("BEDSIDE_TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts")
    if not d.is_absolute():
        d = REPO_ROOT / d
    d.mkdir(parents=True, exist_ok=True)
    return d


def utterance_wav(path: Path, text: str, lead_s: float = 1.0, tail_s: float = 2.0) -> Path:
    """A mono PCM16 WAV of `text` (espeak-ng) with silence before and after it."""
    with tempfile.TemporaryDirectory() as d:
        raw = Path(d) / "raw.wav"
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(raw), text], check=True, capture_output=True)
        with wave.open(str(raw)) as w:
            rate = w.getframerate()
            speech = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    audio = np.concatenate([np.zeros(int(lead_s * rate), "<i2"), speech, np.zeros(int(tail_s * rate), "<i2")])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(audio.tobytes())
    return path


def launch_args(fake_audio: Path | None = None, fake_ui: bool = True) -> list[str]:
    args = list(BASE_ARGS)
    if fake_ui:
        args.append("--use-fake-ui-for-media-stream")
    args.append("--use-fake-device-for-media-stream")
    if fake_audio is not None:
        args.append(f"--use-file-for-fake-audio-capture={fake_audio}")
    return args


# getUserMedia that fails the way a browser does when the learner blocks the microphone
DENY_MIC = """
(() => {
  const deny = () => Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
  if (navigator.mediaDevices) navigator.mediaDevices.getUserMedia = deny;
})();
"""

# no microphone at all: any use of it fails loudly, so a text session proves it never asked
NO_MIC = """
(() => {
  window.__micRequests = 0;
  const none = () => { window.__micRequests += 1; return Promise.reject(new DOMException("Requested device not found", "NotFoundError")); };
  if (navigator.mediaDevices) navigator.mediaDevices.getUserMedia = none;
})();
"""

# every Content-Security-Policy violation goes to the page's exposed `bedsideCspViolation(text)`
REPORT_CSP = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.bedsideCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""
