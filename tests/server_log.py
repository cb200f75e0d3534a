"""Waiting for a line in the log of a `bedside serve` child process (ServerProcess.lines)."""

from __future__ import annotations

import asyncio
import time

from server.api.launch import ServerProcess


async def wait_for_line(server: ServerProcess, needle: str, after: int = 0, timeout: float = 60) -> None:
    """Until a line from index `after` on contains `needle`. Async, so the test's own sockets keep
    going meanwhile (a resume it has sent, say, reaches the server)."""
    deadline = time.monotonic() + timeout
    while not any(needle in line for line in server.lines[after:]):
        assert time.monotonic() < deadline, f"the server never logged {needle!r}:\n{server.output()[-3000:]}"
        await asyncio.sleep(0.05)
