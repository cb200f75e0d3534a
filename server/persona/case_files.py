"""Pack files on disk for the case editor: read, save with a history of versions, restore.

Each save first copies the file it replaces to `<persona_dir>/.history/<id>/<time>-<sha8>.yaml`
(the directory starts with a dot, so the registry never loads it as a pack), then writes the
new text atomically (a temporary file renamed over the old one), so a crash mid-save leaves
the old file or the new one, never half of either. Text is validated by the caller first:
nothing invalid is ever written here.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .loader import PACK_FILE, check_persona_id, pack_version

HISTORY_DIR = ".history"
_VERSION_ID = re.compile(r"^(\d{8}T\d{12}Z)-([0-9a-f]{8})$")


class CaseFileError(Exception):
    """A case file request that cannot be met; `status` is the HTTP status it maps to."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class SavedVersion:
    version_id: str      # "<UTC time>-<first 8 hex of the sha256>", the history file's name
    saved_at: datetime   # when this text stopped being the current file
    pack_version: str    # the 12-hex version sessions record
    size: int


class CaseFiles:
    def __init__(self, persona_dir: Path):
        self.root = Path(persona_dir)

    def path(self, case_id: str) -> Path:
        return self.root / check_persona_id(case_id) / PACK_FILE

    def exists(self, case_id: str) -> bool:
        return self.path(case_id).is_file()

    def read(self, case_id: str) -> str:
        path = self.path(case_id)
        if not path.is_file():
            raise CaseFileError(404, f"no case '{case_id}' in the persona directory; GET /api/cases lists them")
        return path.read_text(encoding="utf-8")

    def current_version(self, case_id: str) -> str | None:
        path = self.path(case_id)
        return pack_version(path.read_bytes()) if path.is_file() else None

    def save(self, case_id: str, text: str, *, expected_version: str | None, create: bool) -> str:
        """Write `text` as the case's file and return its pack_version. `create` refuses an id
        already taken; otherwise `expected_version` (the version the editor loaded) must still be
        the file's, so two educators editing one case cannot silently overwrite each other."""
        path = self.path(case_id)
        current = self.current_version(case_id)
        if create and current is not None:
            raise CaseFileError(409, f"a case with id '{case_id}' already exists; choose another id or open that case")
        if not create:
            if current is None:
                raise CaseFileError(404, f"no case '{case_id}' to save over; save it as a new case")
            if expected_version and expected_version != current:
                raise CaseFileError(409, f"case '{case_id}' changed since you opened it (now version {current}, you "
                                         f"opened {expected_version}); reload it, or copy your changes into a new case")
        if current is not None:
            if pack_version(text) == current:
                return current  # nothing changed: no history entry
            self._keep(case_id, path.read_bytes())
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, text.encode("utf-8"))
        return pack_version(text)

    def _keep(self, case_id: str, old: bytes) -> None:
        folder = self.root / HISTORY_DIR / case_id
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        _write_atomic(folder / f"{stamp}-{pack_version(old)[:8]}.yaml", old)

    def versions(self, case_id: str) -> list[SavedVersion]:
        """Earlier versions of a case, newest first."""
        folder = self.root / HISTORY_DIR / check_persona_id(case_id)
        out = []
        for f in folder.glob("*.yaml") if folder.is_dir() else []:
            m = _VERSION_ID.match(f.stem)
            if m is None:
                continue
            raw = f.read_bytes()
            out.append(SavedVersion(f.stem, datetime.strptime(m.group(1), "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC),
                                    pack_version(raw), len(raw)))
        return sorted(out, key=lambda v: v.version_id, reverse=True)

    def read_version(self, case_id: str, version_id: str) -> str:
        if not isinstance(version_id, str) or not _VERSION_ID.fullmatch(version_id):
            raise CaseFileError(422, f"'{version_id}' is not a version id; use one from GET /api/cases/{case_id}/versions")
        path = self.root / HISTORY_DIR / check_persona_id(case_id) / f"{version_id}.yaml"
        if not path.is_file():
            raise CaseFileError(404, f"case '{case_id}' has no version '{version_id}'; GET /api/cases/{case_id}/versions lists them")
        return path.read_text(encoding="utf-8")


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
