"""The server under test: one base URL (a Bedside server, or a proxy in front of several), its
websocket address, and what it says about itself before any load is sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx

from server.redact import redact_url


class SetupError(Exception):
    """The run cannot start (bad URL, server unreachable, unknown persona...): exit 2."""


@dataclass(frozen=True)
class Target:
    base: str  # http(s)://host[:port][/prefix], no trailing slash

    @classmethod
    def parse(cls, url: str) -> "Target":
        parts = urlsplit(url.strip())
        url = redact_url(url)  # as shown in messages: a password in the address is not printed
        if parts.scheme not in ("http", "https"):
            raise SetupError(f"URL {url!r} must start with http:// or https://, e.g. http://127.0.0.1:8000 (the address "
                             "`bedside serve` prints, or the proxy in front of the replicas)")
        if not parts.hostname:
            raise SetupError(f"URL {url!r} names no host; write it as http://HOST:PORT, e.g. http://127.0.0.1:8000")
        try:
            parts.port
        except ValueError:
            raise SetupError(f"URL {url!r} has a port that is not a number from 1 to 65535") from None
        if parts.query or parts.fragment:
            raise SetupError(f"URL {url!r}: give only the base address, without ?query or #fragment")
        return cls(urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", "")))

    @property
    def shown(self) -> str:
        """The base URL as printed and reported, without a password it may carry."""
        return redact_url(self.base)

    def http(self, path: str) -> str:
        return self.base + path

    @property
    def ws_url(self) -> str:
        scheme, rest = self.base.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ws/session"


@dataclass
class ServerInfo:
    health: dict
    personas: list[str] = field(default_factory=list)


def probe(target: Target, timeout_s: float = 10.0) -> ServerInfo:
    """/healthz and /api/personas, with an error that says what to check when either fails."""
    try:
        health = httpx.get(target.http("/healthz"), timeout=timeout_s)
    except httpx.ConnectError as exc:
        raise SetupError(f"cannot reach {target.shown} ({exc}); is `bedside serve` running there, and are the host "
                         "and port right?") from None
    except httpx.TimeoutException:
        raise SetupError(f"{target.shown}/healthz did not answer within {timeout_s:g} s; the server is not responding") from None
    except httpx.HTTPError as exc:
        raise SetupError(f"request to {target.shown}/healthz failed: {exc}") from None
    body = _json(health)
    if health.status_code != 200 or not isinstance(body, dict) or "personas" not in body:
        raise SetupError(f"{target.shown}/healthz answered HTTP {health.status_code} without Bedside's health report; "
                         "is this the base URL of a Bedside server (not its /ws/session or another service)?")
    try:
        listing = httpx.get(target.http("/api/personas"), timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise SetupError(f"request to {target.shown}/api/personas failed: {exc!r}") from None
    ids = [p.get("id") for p in (_json(listing) or {}).get("personas", []) if isinstance(p, dict)]
    if listing.status_code != 200 or not ids:
        raise SetupError(f"{target.shown}/api/personas lists no persona (HTTP {listing.status_code}); the server has no "
                         "valid persona pack loaded (see `bedside persona validate`)")
    return ServerInfo(health=body, personas=ids)


def choose_personas(info: ServerInfo, wanted: str | None) -> list[str]:
    """The one persona asked for, or every persona the server lists (sessions take them in turn)."""
    if wanted is None:
        return list(info.personas)
    if wanted not in info.personas:
        raise SetupError(f"--persona {wanted!r} is not loaded on the server; choose one of: {', '.join(info.personas)}")
    return [wanted]


def _json(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return None
