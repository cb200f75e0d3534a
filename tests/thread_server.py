"""An ASGI app served by uvicorn on 127.0.0.1 in a thread, for tests that need a real HTTP
server (a browser, a remote backend) but not a `bedside serve` process with its models."""

from __future__ import annotations

import socket
import threading
import time


class AppThread:
    """`with AppThread(app) as server:` serves `app` at `server.url` until the block ends."""

    def __init__(self, app, lifespan: str = "off"):
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> "AppThread":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started, "test server did not start"
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
