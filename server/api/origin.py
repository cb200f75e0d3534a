"""Which web pages may open the session websocket.

The same-origin policy does not cover websockets: without a check, any site a learner
visits could open sessions on this server from their browser (a server on localhost or an
intranet included) and spend its sessions and compute. A browser
always sends the page's Origin; it must be this server itself (its host:port equals the
Host header) or be listed in the `ws_allowed_origins` setting. A request without an Origin
header does not come from a web page (the Python SessionClient, tests, curl) and is let in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.websockets import WebSocket

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
_DEFAULT_PORT = {"http": ":80", "https": ":443"}


def _netloc(origin: str) -> tuple[str, str]:
    """(scheme, host[:port]) of an origin, lower-case, without the scheme's default port."""
    parts = urlsplit(origin.strip().lower())
    netloc = parts.netloc
    default = _DEFAULT_PORT.get(parts.scheme)
    if default and netloc.endswith(default):
        netloc = netloc[: -len(default)]
    return parts.scheme, netloc


def origin_allowed(origin: str | None, host: str | None, allowed: Iterable[str] = ()) -> bool:
    if origin is None:
        return True
    listed = {o.strip().lower().rstrip("/") for o in allowed}
    if "*" in listed or origin.strip().lower().rstrip("/") in listed:
        return True
    scheme, netloc = _netloc(origin)
    if scheme not in _DEFAULT_PORT or not netloc or not host:
        return False
    host = host.strip().lower()
    return netloc in (host, _netloc(f"{scheme}://{host}")[1])


async def refuse_foreign_origin(websocket: WebSocket, allowed: Iterable[str]) -> bool:
    """Close the socket before accepting it if its Origin is not allowed; True if it was closed."""
    origin, host = websocket.headers.get("origin"), websocket.headers.get("host")
    if origin_allowed(origin, host, allowed):
        return False
    log.warning("websocket from origin %r refused (server host %r); list it in BEDSIDE_WS_ALLOWED_ORIGINS "
                "to allow it", origin, host)
    await websocket.close(code=POLICY_VIOLATION,
                          reason="origin not allowed; the server setting ws_allowed_origins lists the allowed ones")
    return True
