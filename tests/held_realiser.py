"""A stand-in OpenAI-compatible realiser endpoint that holds a turn in flight when a test asks.

A `bedside serve` started with `env()` words every reply through this endpoint. It answers at
once with an empty stream (the turn falls back to the template wording, as with any model
that fails), unless the test has called `hold()`: the next reply then waits here until
`release()`. While it waits, the test knows a turn is running inside the server, committed
nowhere yet, and can resume the session elsewhere, kill the server or stop it.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HeldRealiser:
    def __init__(self) -> None:
        self._holding = False
        self.entered = threading.Event()  # a held reply has arrived
        self._go = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if owner._holding:
                    owner.entered.set()
                    owner._go.wait(120)
                body = b"data: [DONE]\n\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass  # a server killed mid-reply leaves a broken pipe here; nothing to report

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def env(self) -> dict[str, str]:
        return {"BEDSIDE_REALISER": "openai", "BEDSIDE_REALISER_OPENAI_BASE_URL": self.url}

    def hold(self) -> None:
        """Hold replies from now until `release()`."""
        self.entered.clear()
        self._go.clear()
        self._holding = True

    def wait_entered(self, timeout: float = 60) -> None:
        assert self.entered.wait(timeout), "no reply reached the held realiser: the turn never started"

    def release(self) -> None:
        self._holding = False
        self._go.set()

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
