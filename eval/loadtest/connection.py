"""One learner's websocket: a reader task stamps every message with its arrival time, keeps the
turn ids the server acknowledged and the error codes it sent, and queues the rest for the
session's script. Acknowledgements are counted here, not by the script, so a turn answered late
(after a timeout) still counts as one the server promised to keep."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .records import CONNECTION_LOST, SessionRecord

AUDIO = "_audio"  # the queue's type for a binary frame (patient audio)
CLOSED = "_closed"  # the queue's type for the end of the connection


@dataclass
class Arrival:
    at: float  # time.perf_counter() when the message arrived
    type: str
    event: dict
    nbytes: int = 0


class Connection:
    def __init__(self, ws: ClientConnection, record: SessionRecord) -> None:
        self.ws, self.record = ws, record
        self.queue: asyncio.Queue[Arrival] = asyncio.Queue()
        self.closed = False
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, record: SessionRecord, timeout_s: float) -> "Connection":
        ws = await asyncio.wait_for(connect(url, max_size=None, open_timeout=timeout_s), timeout_s)
        return cls(ws, record)

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                now = time.perf_counter()
                if isinstance(msg, bytes):
                    self.queue.put_nowait(Arrival(now, AUDIO, {}, len(msg)))
                    continue
                event = json.loads(msg)
                kind = event.get("type", "")
                if kind == "grade.turn":
                    self.record.acknowledged.add(int(event["turn_id"]))
                elif kind == "error":
                    self.record.error(str(event.get("code", "unknown")))
                self.queue.put_nowait(Arrival(now, kind, event))
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            self.queue.put_nowait(Arrival(time.perf_counter(), CLOSED, {}))

    async def send(self, message: str | bytes) -> None:
        await self.ws.send(message)

    async def next(self, timeout_s: float) -> Arrival:
        """The next message; a TimeoutError if none comes in time, ConnectionLost once the
        server has closed the connection."""
        arrival = await asyncio.wait_for(self.queue.get(), timeout_s)
        if arrival.type == CLOSED:
            self.queue.put_nowait(arrival)  # every later read sees the end too
            raise ConnectionLost()
        return arrival

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)


class ConnectionLost(Exception):
    """The server closed the connection before the script was done."""

    code = CONNECTION_LOST
