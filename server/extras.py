"""Optional parts of Bedside come with pip extras; a missing one is named, not a traceback.

The server's default path needs none of them: `train` (scikit-learn) is for `bedside grade
train`, `reports` (matplotlib) for the charts of `bedside eval`, `openai-whisper` for that ASR
backend. `make setup` installs them all (through `dev`).
"""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtra(RuntimeError):
    """An optional package is not installed: the message says which extra installs it."""


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import `module`, or raise MissingExtra naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module.split(".")[0]:
            raise
        raise MissingExtra(missing_message(extra, what)) from None


def missing_message(extra: str, what: str) -> str:
    return (f"{what} needs the optional '{extra}' extra, which is not installed: "
            f"pip install 'bedside[{extra}]' (in a checkout: pip install -e '.[{extra}]')")
