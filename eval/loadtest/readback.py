"""After the run, read every session back through the HTTP API and list the turn ids stored, to
compare with the ones the server acknowledged (a grade.turn is only sent after its commit, so an
acknowledged turn that is not stored is a lost turn)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from .records import SessionRecord
from .target import SetupError, Target

PARALLEL_READS = 8


@dataclass
class Stored:
    session_id: str
    turn_ids: set[int] | None  # None: could not be read (see problem)
    problem: str | None = None


def check_educator_token(target: Target, token: str, timeout_s: float = 10.0) -> None:
    """Before any load: a token the server refuses would make every read-back fail at the end."""
    r = httpx.get(target.http("/api/sessions"), params={"learner_id": "loadtest-token-check"},
                  headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s)
    if r.status_code in (401, 403):
        raise SetupError(f"the server refused the educator token (HTTP {r.status_code}); pass the one it uses with "
                         "--educator-token or BEDSIDE_EDUCATOR_TOKEN, or leave it out to read each session back with "
                         "its own learner token")
    if r.status_code != 200:
        raise SetupError(f"{target.shown}/api/sessions answered HTTP {r.status_code} to the educator token check")


async def read_back(target: Target, records: list[SessionRecord], educator_token: str | None,
                    timeout_s: float) -> list[Stored]:
    """The stored turn ids of every session that started."""
    gate = asyncio.Semaphore(PARALLEL_READS)
    async with httpx.AsyncClient(timeout=timeout_s) as client:
        async def one(record: SessionRecord) -> Stored:
            token = educator_token or record.token
            async with gate:
                try:
                    r = await client.get(target.http(f"/api/sessions/{record.session_id}"),
                                         headers={"Authorization": f"Bearer {token}"})
                except httpx.HTTPError as exc:
                    return Stored(record.session_id, None, f"read-back failed: {exc!r}")
            if r.status_code != 200:
                return Stored(record.session_id, None, f"read-back answered HTTP {r.status_code}: {r.text[:200]}")
            return Stored(record.session_id, {int(t["turn_id"]) for t in r.json().get("turns", [])})

        return list(await asyncio.gather(*(one(r) for r in records if r.session_id)))
