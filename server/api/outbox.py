"""The one way events reach a client: typed turns and voice turns deliver through an `Outbox`.

The websocket supplies one whose sends hold a lock, so frames sent from a voice turn's
background task and from the reading loop stay whole and in order; tests collect into a list.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from pydantic import BaseModel


class Outbox(Protocol):
    async def send(self, event: BaseModel) -> None:
        """One protocol event (server/api/protocol.py), as a JSON text frame."""

    async def send_audio(self, pcm16: bytes) -> None:
        """A chunk of the patient's voice, as a binary frame."""

    async def close(self, code: int, reason: str) -> None:
        """Close the connection between frames; closing one already closed does nothing."""


class SocketOutbox:
    """Sends to a websocket, one frame at a time."""

    def __init__(self, websocket) -> None:
        self._socket = websocket
        self.lock = asyncio.Lock()  # also held to close the socket between frames

    async def send(self, event: BaseModel) -> None:
        async with self.lock:
            await self._socket.send_text(event.model_dump_json())

    async def send_audio(self, pcm16: bytes) -> None:
        async with self.lock:
            await self._socket.send_bytes(pcm16)

    async def close(self, code: int, reason: str) -> None:
        async with self.lock:
            try:
                await self._socket.close(code=code, reason=reason)
            except RuntimeError:  # already closed, by either side
                pass


class CollectingOutbox:
    """Keeps what is sent, for tests and for callers that want the events as values."""

    def __init__(self) -> None:
        self.events: list[BaseModel] = []
        self.audio: list[bytes] = []
        self.closed: tuple[int, str] | None = None

    async def send(self, event: BaseModel) -> None:
        self.events.append(event)

    async def send_audio(self, pcm16: bytes) -> None:
        self.audio.append(pcm16)

    async def close(self, code: int, reason: str) -> None:
        self.closed = self.closed or (code, reason)
