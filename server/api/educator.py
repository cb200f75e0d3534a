"""The educator bearer token: from settings, else generated once into data_dir.

Generated tokens are written with mode 600 and shown once at first start; they are
never logged afterwards, so the terminal history is the only other copy.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ..config import Settings

TOKEN_FILE = "educator_token"


def token_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / TOKEN_FILE


def ensure_educator_token(settings: Settings) -> tuple[str, bool]:
    """(token, created_now). A configured token wins and nothing is written."""
    if settings.educator_token:
        return settings.educator_token, False
    path = token_path(settings)
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token, False
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    os.chmod(path, 0o600)  # O_CREAT's mode does not apply to a pre-existing empty file
    return token, True
