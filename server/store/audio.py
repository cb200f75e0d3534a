"""Where a session's recorded learner audio lives, naming a new recording, and removing it.

The store holds words and grades; raw audio (only with `store_audio`) is kept on disk at
data_dir/audio/<session id>/turn-NNN.wav, and each voice turn records its file's path in
`extra.voice.audio_file`. Deleting a learner's data means both.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from ..private_files import create_new_private
from .records import TurnRecord

AUDIO_DIR = "audio"
_TURN_WAV = re.compile(r"^turn-(\d+)\.wav$")


def session_audio_dir(data_dir: Path, session_id: str) -> Path:
    return Path(data_dir) / AUDIO_DIR / session_id


def new_turn_wav(folder: Path) -> tuple[Path, BinaryIO]:
    """A recording file no turn has used, open for writing (mode 600): turn-NNN.wav numbered
    after the highest already in the session's folder, created exclusively.

    Nothing logged is ever lost: a resumed session's new connection counts its turns from one
    again, and a connection being taken over may still be saving one, so the number comes from
    the folder and an existing file is never opened, only skipped."""
    taken = [int(m.group(1)) for p in folder.iterdir() if (m := _TURN_WAV.match(p.name))] if folder.is_dir() else []
    n = max(taken, default=0)
    while True:
        n += 1
        path = folder / f"turn-{n:03d}.wav"
        try:
            return path, create_new_private(path)
        except FileExistsError:
            continue  # another connection of this session took the number first


def _safe_id(session_id: str) -> bool:
    """A session id is one path component (the store makes UUIDs); anything else is never joined."""
    return bool(session_id) and session_id not in (".", "..") and Path(session_id).name == session_id


def recorded_audio(session_id: str, turns: Iterable[TurnRecord]) -> set[Path]:
    """The .wav files this session's turns say were saved, wherever the server's data dir was.
    Only files inside a folder named after the session count: nothing else is ever removed."""
    found = set()
    for turn in turns:
        voice = turn.extra.get("voice")
        name = voice.get("audio_file") if isinstance(voice, dict) else None
        if isinstance(name, str) and _safe_id(session_id):
            path = Path(name)
            if path.suffix == ".wav" and path.parent.name == session_id:
                found.add(path)
    return found


def remove_session_audio(data_dir: Path, session_id: str, recorded: Iterable[Path] = ()) -> int:
    """Delete the session's audio folder under `data_dir` and any `recorded` file elsewhere;
    returns how many files were removed."""
    if not _safe_id(session_id):
        return 0
    removed = 0
    folder = session_audio_dir(data_dir, session_id)
    if folder.is_dir():
        removed += sum(1 for p in folder.rglob("*") if p.is_file())
        shutil.rmtree(folder)
    for path in recorded:
        if path.is_file():
            path.unlink()
            removed += 1
            try:
                path.parent.rmdir()  # only if now empty
            except OSError:
                pass
    return removed
