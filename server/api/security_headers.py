"""Security headers on every HTTP response.

The educator token lives in the page's sessionStorage, so the page must run no script
but its own: the Content-Security-Policy allows scripts (the audio worklets too) and
styles from this origin only, no inline script, no plugins, and no framing. A route
that needs another policy (the opt-in API docs) sets its own header, which is kept.
"""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A Host header fit to be named in the policy; anything else gets 'self' alone.
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")

_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
           "connect-src {connect}; worker-src 'self'; object-src 'none'; frame-ancestors 'none'; "
           "base-uri 'none'; form-action 'self'")

FIXED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "permissions-policy": "microphone=(self), camera=(), geolocation=()",
}


def content_security_policy(host: str | None) -> str:
    """The page's policy. Its websocket is named by host as well as by 'self', which
    older Safari does not match against ws: and wss: URLs."""
    connect = "'self'"
    if host and _HOST.match(host):
        connect += f" ws://{host} wss://{host}"
    return _POLICY.format(connect=connect)


class SecurityHeaders:
    """Pure ASGI middleware (BaseHTTPMiddleware would buffer streamed responses)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", content_security_policy(host))
                for name, value in FIXED.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's error middleware sits outside this one and would answer a crash with
            # a bare 500; answer it here, with the headers, and let the error be logged as before
            if not started:
                await send_with_headers({"type": "http.response.start", "status": 500,
                                         "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "http.response.body", "body": b"Internal Server Error"})
            raise
