"""The start and end of one simulated session, shared by text and voice learners. Messages are
built with the server's own protocol models (server/api/protocol.py), so a change there shows up
here as an error, not as silently wrong traffic."""

from __future__ import annotations

from server.api.protocol import SessionEnd, SessionStart

from .connection import Connection, ConnectionLost
from .records import NO_SUMMARY, REPLY_TIMEOUT, SessionRecord


async def start(conn: Connection, record: SessionRecord, mode: str, timeout_s: float) -> dict | None:
    """session.start; the session.started event, or None (the error is on the record)."""
    msg = SessionStart(type="session.start", persona_id=record.persona_id, learner_id=record.learner_id, mode=mode)
    await conn.send(msg.model_dump_json(exclude_none=True))
    try:
        while True:
            arrival = await conn.next(timeout_s)
            if arrival.type == "session.started":
                record.session_id, record.token = arrival.event["session_id"], arrival.event["token"]
                return arrival.event
            if arrival.type == "error":  # counted by the connection
                return None
    except TimeoutError:
        record.error(REPLY_TIMEOUT)
    except ConnectionLost as lost:
        record.error(lost.code)
    return None


async def end(conn: Connection, record: SessionRecord, timeout_s: float) -> None:
    """session.end, then wait for the summary (the server's last message)."""
    if conn.closed:
        return
    await conn.send(SessionEnd(type="session.end").model_dump_json())
    try:
        while (await conn.next(timeout_s)).type != "session.summary":
            pass
    except (TimeoutError, ConnectionLost):
        record.error(NO_SUMMARY)
