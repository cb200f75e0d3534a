"""Learner session tokens: handed out once, stored only as a SHA-256 digest.

A leaked database therefore cannot be used to read or resume anyone's session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """A fresh unguessable bearer token for one session."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str | None, token_hash: str) -> bool:
    """Constant-time comparison, so response timing leaks nothing about the digest."""
    if not token:
        return False
    return hmac.compare_digest(hash_token(token), token_hash)
