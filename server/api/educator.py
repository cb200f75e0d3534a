"""The educator bearer token: from settings, else generated once into data_dir.

Generated tokens are written with mode 600 and never logged. At first start the token is
shown only on an interactive terminal: a service manager or container captures stdout into
logs that other people read, so there the notice names the file instead.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import TextIO

from ..config import Settings, reveal
from ..private_files import open_private

TOKEN_FILE = "educator_token"
SHOWN = "EDUCATOR TOKEN (shown once; also saved to {path}): {token}"
SAVED = "educator token saved to {path}"
"""The two first-start notices; server/api/launch.py reads them back for tests and benchmarks."""


def token_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / TOKEN_FILE


def ensure_educator_token(settings: Settings) -> tuple[str, bool]:
    """(token, created_now). A configured token wins and nothing is written."""
    if settings.educator_token:
        return reveal(settings.educator_token), False
    path = token_path(settings)
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token, False
    token = secrets.token_urlsafe(32)
    with open_private(path) as fh:
        fh.write((token + "\n").encode("utf-8"))
    return token, True


def announce_token(token: str, path: Path, out: TextIO | None = None) -> None:
    """The first-start notice: the token itself only when a person is watching the terminal."""
    out = out or sys.stdout
    line = SHOWN.format(path=path, token=token) if out.isatty() else SAVED.format(path=path)
    print(line, file=out, flush=True)
