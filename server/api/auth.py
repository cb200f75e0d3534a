"""Bearer-token checks for the HTTP API.

No token is 401 (ask for one); a token that is not allowed is 403. Tokens are compared
in constant time; learner tokens and personal keys only ever as hashes (see
server/store/tokens.py and server/store/learner_keys.py).
"""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..store.records import LearnerKeyRecord, SessionRecord

_bearer = HTTPBearer(auto_error=False, description="Educator token (data_dir/educator_token), a session's learner token, "
                     "or a learner's personal key")


def _educator_token(request: Request) -> str:
    return request.app.state.services.educator_token


def is_educator(request: Request, creds: HTTPAuthorizationCredentials | None) -> bool:
    return creds is not None and hmac.compare_digest(creds.credentials.encode(), _educator_token(request).encode())


def session_reader(creds: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> HTTPAuthorizationCredentials:
    """Any bearer token; which one may read what is decided per endpoint."""
    if creds is None or not creds.credentials:
        raise HTTPException(401, "send 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})
    return creds


def require_educator(request: Request, creds: HTTPAuthorizationCredentials = Depends(session_reader)) -> None:
    if not is_educator(request, creds):
        raise HTTPException(403, "this endpoint needs the educator token (kept in data_dir/educator_token)")


def key_holder(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> LearnerKeyRecord:
    """The personal key's record (a sync dependency, so its database read runs in the threadpool)."""
    if creds is None or not creds.credentials:
        raise HTTPException(401, "send 'Authorization: Bearer <your personal key>'; the browser client keeps it under "
                            "My sessions, and POST /api/learner-keys makes a new one", headers={"WWW-Authenticate": "Bearer"})
    key = request.app.state.services.store.learner_keys.find(creds.credentials)
    if key is None:
        raise HTTPException(403, "this is not a personal key known on this server; check it for typing mistakes, "
                            "or make a new one with POST /api/learner-keys")
    return key


def key_reads(request: Request, creds: HTTPAuthorizationCredentials, session: SessionRecord) -> bool:
    """Whether the bearer is the personal key of the learner who started `session` (sync: call in a thread)."""
    key = request.app.state.services.store.learner_keys.find(creds.credentials)
    return key is not None and key.owns(session)
