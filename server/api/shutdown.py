"""Graceful shutdown for `bedside serve`: uvicorn's server with a drain in front of its own.

uvicorn, told to stop (SIGTERM, Ctrl-C), closes its listening sockets and then drops every
websocket at once, a turn in flight included: its events would never be sent. This server
first closes the listening sockets (no new connections), then drains the session sockets
(api/connections.py: turns in flight commit and answer, then each socket closes with 1012),
and only then runs uvicorn's shutdown, whose lifespan end releases the replica's leases.
"""

from __future__ import annotations

import socket

import uvicorn

from .services import Services


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, services: Services):
        super().__init__(config)
        self._services = services

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:  # no new connections from here on
            server.close()
        for sock in sockets or []:
            sock.close()
        services = self._services
        await services.connections.drain(services.live.busy, services.leases.max_wait_s)
        await super().shutdown(sockets)
