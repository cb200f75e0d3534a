"""Bearer-token checks for the HTTP API.

No token is 401 (ask for one); a token that is not allowed is 403. Tokens are compared
in constant time; learner tokens only ever as hashes (see server/store/tokens.py).
"""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="Educator token (data_dir/educator_token) or a session's learner token")


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
