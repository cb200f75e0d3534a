"""The /ws/session endpoint: frames in, events out. Session logic lives in conversation.py.

Every problem with a frame becomes an `error` event and the socket stays open; only a
finished session (after session.summary) or the client closes it.
"""

from __future__ import annotations

import asyncio
import json
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from .conversation import Conversation
from .origin import refuse_foreign_origin
from .protocol import ErrorMessage, ProtocolError, parse_client

log = logging.getLogger(__name__)
router = APIRouter()



async def _events_for(conv: Conversation, frame: dict) -> list:
    try:
        if frame.get("bytes") is not None:
            return await conv.on_audio(frame["bytes"])
        return await conv.handle(parse_client(frame.get("text") or ""))
    except ProtocolError as exc:
        return [exc.event()]
    except Exception:  # a bug must not kill the learner's session
        log.exception("websocket message failed")
        return [ErrorMessage(code="internal_error", message="the server failed on this message and logged why; "
                             "the session is unchanged, so you can send it again")]


@router.websocket("/ws/session")
async def session_socket(websocket: WebSocket) -> None:
    # Voice turns send from background tasks while this loop keeps reading audio, so
    # every send goes through one lock to keep frames whole and in order.
    lock = asyncio.Lock()

    async def send_json(event) -> None:
        async with lock:
            await websocket.send_text(event if isinstance(event, str) else
                                      json.dumps(event) if isinstance(event, dict) else event.model_dump_json())

    async def send_bytes(data: bytes) -> None:
        async with lock:
            await websocket.send_bytes(data)

    services = websocket.app.state.services
    client = websocket.client.host if websocket.client else "unknown"
    conv = Conversation(services, send_json=send_json, send_bytes=send_bytes, client=client)
    idle = services.settings.idle_timeout_s or None
    if await refuse_foreign_origin(websocket, websocket.app.state.services.settings.ws_allowed_origins):
        return
    await websocket.accept()
    try:
        while True:
            try:
                frame = await asyncio.wait_for(websocket.receive(), timeout=idle)
            except asyncio.TimeoutError:
                await send_json(ErrorMessage(code="idle_timeout", message=f"nothing was sent for {idle:g} s, so the "
                                             "connection is closed; send session.resume with your session_id and token "
                                             "to go on (server setting idle_timeout_s)"))
                async with lock:
                    await websocket.close(code=1000, reason="idle")
                break
            if frame["type"] == "websocket.disconnect":
                break
            for event in await _events_for(conv, frame):
                await send_json(event)
            if conv.closed:
                async with lock:
                    await websocket.close(code=1000, reason="session ended")
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        await conv.close_voice()
        conv.detach()
