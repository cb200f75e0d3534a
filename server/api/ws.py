"""The /ws/session endpoint: frames in, events out. Session logic lives in conversation.py.

Every problem with a frame becomes an `error` event and the socket stays open; only a
finished session (after session.summary), the client, or a server shutting down (1012 after
its turns in flight, api/connections.py) closes it.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from .connections import RESTART_CODE, RESTART_REASON
from .conversation import Conversation
from .origin import refuse_foreign_origin
from .outbox import SocketOutbox
from .protocol import ErrorMessage, ProtocolError, parse_client

log = logging.getLogger(__name__)
router = APIRouter()


async def _receive(conv: Conversation, frame: dict) -> None:
    """One frame in; its events go out through the conversation's outbox."""
    connections = conv.services.connections
    if connections.draining:  # the socket closes for a restart next; the client resends after resuming
        log.info("a frame arrived while shutting down; not handled (the client resends it after resuming)")
        return
    async with connections.working():
        await _handle(conv, frame)


async def _handle(conv: Conversation, frame: dict) -> None:
    try:
        if frame.get("bytes") is not None:
            await conv.on_audio(frame["bytes"])
        else:
            await conv.handle(parse_client(frame.get("text") or ""))
    except ProtocolError as exc:
        await conv.outbox.send(exc.event())
    except Exception:  # a bug must not kill the learner's session
        log.exception("websocket message failed")
        await conv.outbox.send(ErrorMessage(code="internal_error", message="the server failed on this message and logged "
                                            "why; the session is unchanged, so you can send it again"))


@router.websocket("/ws/session")
async def session_socket(websocket: WebSocket) -> None:
    # Voice turns send from background tasks while this loop keeps reading audio: the outbox
    # holds one lock over every send, so frames stay whole and in order.
    outbox = SocketOutbox(websocket)
    services = websocket.app.state.services
    client = websocket.client.host if websocket.client else "unknown"
    conv = Conversation(services, outbox, client=client)
    idle = services.settings.idle_timeout_s or None
    if await refuse_foreign_origin(websocket, websocket.app.state.services.settings.ws_allowed_origins):
        return
    await websocket.accept()
    if services.connections.draining:
        await outbox.close(RESTART_CODE, RESTART_REASON)
        return
    services.connections.add(conv)
    try:
        while True:
            try:
                frame = await asyncio.wait_for(websocket.receive(), timeout=idle)
            except asyncio.TimeoutError:
                await outbox.send(ErrorMessage(code="idle_timeout", message=f"nothing was sent for {idle:g} s, so the "
                                               "connection is closed; send session.resume with your session_id and token "
                                               "to go on (server setting idle_timeout_s)"))
                await outbox.close(1000, "idle")
                break
            if frame["type"] == "websocket.disconnect":
                break
            await _receive(conv, frame)
            if conv.closed:
                await outbox.close(1000, "session ended")
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        services.connections.discard(conv)
        await conv.close_voice()
        await conv.detach()
