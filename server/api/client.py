"""A minimal Python client for /ws/session, for tests, benchmarks and scripts.

It speaks the protocol in docs/protocol.md and nothing more; a browser client does
the same with `new WebSocket(...)`.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


@dataclass
class TurnReply:
    """The three events of one acknowledged turn, plus the client's round-trip time."""

    grade: dict[str, Any]
    state: dict[str, Any]
    patient: dict[str, Any]
    round_trip_ms: float = 0.0

    @property
    def turn_id(self) -> int:
        return self.patient["turn_id"]


class ProtocolFailure(AssertionError):
    """The server answered with an `error` event (or something unexpected)."""

    def __init__(self, event: dict[str, Any]):
        self.event = event
        super().__init__(json.dumps(event))


@dataclass
class SessionClient:
    ws: ClientConnection
    timeout: float = 30.0
    session: dict[str, Any] = field(default_factory=dict)

    @classmethod
    async def open(cls, url: str, timeout: float = 30.0) -> "SessionClient":
        return cls(await connect(url, max_size=8 * 1024 * 1024), timeout)

    async def close(self) -> None:
        await self.ws.close()

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(json.dumps(message) if isinstance(message, dict) else message)

    async def recv(self) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.ws.recv(), self.timeout))

    async def expect(self, kind: str) -> dict[str, Any]:
        event = await self.recv()
        if event.get("type") != kind:
            raise ProtocolFailure(event)
        return event

    async def expect_error(self, code: str | None = None) -> dict[str, Any]:
        event = await self.expect("error")
        if code is not None and event["code"] != code:
            raise ProtocolFailure(event)
        return event

    async def start(self, persona_id: str, learner_id: str, mode: str = "text",
                    learner_key: str | None = None) -> dict[str, Any]:
        msg = {"type": "session.start", "persona_id": persona_id, "learner_id": learner_id, "mode": mode}
        if learner_key is not None:
            msg["learner_key"] = learner_key
        await self.send(msg)
        self.session = await self.expect("session.started")
        return self.session

    async def resume(self, session_id: str, token: str) -> dict[str, Any]:
        await self.send({"type": "session.resume", "session_id": session_id, "token": token})
        self.session = await self.expect("session.started")
        return self.session

    async def say(self, text: str, client_turn_id: str | None = None) -> TurnReply:
        msg: dict[str, Any] = {"type": "learner.text", "text": text}
        if client_turn_id is not None:
            msg["client_turn_id"] = client_turn_id
        t0 = time.perf_counter()
        await self.send(msg)
        grade = await self.expect("grade.turn")
        state = await self.expect("state.update")
        patient = await self.expect("patient.text")
        return TurnReply(grade, state, patient, round((time.perf_counter() - t0) * 1000, 3))

    async def retry(self, turn_id: int) -> dict[str, Any]:
        """Take back the last turn ("Try that again"); returns the `turn.rewound` event."""
        await self.send({"type": "turn.retry", "turn_id": turn_id})
        return await self.expect("turn.rewound")

    async def end(self) -> dict[str, Any]:
        await self.send({"type": "session.end"})
        return await self.expect("session.summary")

    async def __aenter__(self) -> "SessionClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()
