"""HTTP endpoints of the learner's personal key: make one, list the key holder's sessions.

A session's own learner token reads that one session; the personal key reads every session
its learner started with it, from any device (docs/protocol.md, "Personal keys"). Reading
a session's debrief with the key goes through GET /api/sessions/{id} (app.py).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, HTTPException, Request

from ..store.records import LearnerKeyRecord, SessionFilter
from ..store.tokens import new_token
from .auth import key_holder
from .learner_schemas import LearnerKeyCreated, MySession, MySessions
from .schemas import ErrorBody

router = APIRouter(tags=["learner history"])

_KEY_ERRORS = {401: {"model": ErrorBody, "description": "No personal key sent"},
               403: {"model": ErrorBody, "description": "Not a personal key this server knows"}}


@router.post("/api/learner-keys", response_model=LearnerKeyCreated, status_code=201,
             responses={429: {"model": ErrorBody, "description": "Too many keys made from this address"}})
async def create_learner_key(request: Request) -> LearnerKeyCreated:
    """A new personal key, shown this once. Its first session ties it to that session's learner id."""
    services = request.app.state.services
    client = request.client.host if request.client else "unknown"
    wait = services.key_issues.wait(client)
    if wait:
        raise HTTPException(429, f"more than {services.settings.learner_keys_per_hour} personal keys were made from this "
                            f"address in the last hour; wait {wait / 60:.0f} min, or keep using the key you have "
                            "(server setting learner_keys_per_hour)", headers={"Retry-After": str(int(wait))})
    key = new_token()
    record = await asyncio.to_thread(services.store.learner_keys.create, key)
    return LearnerKeyCreated(key=key, created_at=record.created_at)


@router.get("/api/me/sessions", response_model=MySessions, responses=_KEY_ERRORS)
async def my_sessions(request: Request, key: LearnerKeyRecord = Depends(key_holder)) -> MySessions:
    """The key holder's sessions, newest first, with the case and headline scores."""
    if key.learner_id is None:
        return MySessions(learner_id=None, sessions=[])
    services = request.app.state.services
    rows = await asyncio.to_thread(services.store.list_sessions,
                                   SessionFilter(learner_id=key.learner_id, since=key.bound_at))
    packs, abandon_after = services.engine.registry.packs, services.settings.abandon_after
    return MySessions(learner_id=key.learner_id, sessions=[MySession.of(r, packs.get(r.persona_id), abandon_after)
                                                           for r in reversed(rows) if key.owns(r)])
