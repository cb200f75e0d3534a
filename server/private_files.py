"""Files only their owner may read: the database, the educator token, learners' audio.

Transcripts and voices are health-adjacent data and the token opens every session, so what
the server creates is mode 600 in folders of mode 700. Folders that already exist keep the
mode someone chose for them (a shared data directory may be group-readable on purpose).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create `path` and each missing parent with mode 700; existing folders are left alone."""
    path = Path(path).expanduser()
    missing = []
    at = path
    while not at.exists():
        missing.append(at)
        at = at.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process made it first
            pass
    return path


def create_private(path: Path) -> None:
    """An empty file of mode 600 unless `path` exists (SQLite then opens it with that mode)."""
    private_dir(Path(path).parent)
    if not Path(path).exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))


def open_private(path: Path) -> BinaryIO:
    """Open `path` for writing (truncated) as a mode-600 file, in a private folder if new."""
    private_dir(Path(path).parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # O_CREAT's mode does not apply to a file that already existed
    return os.fdopen(fd, "wb")


def create_new_private(path: Path) -> BinaryIO:
    """Open a new mode-600 file for writing; FileExistsError if `path` exists. For records
    that must never replace an earlier one (a learner's recorded turn)."""
    private_dir(Path(path).parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # the umask may have taken bits off; the mode is exact either way
    return os.fdopen(fd, "wb")
