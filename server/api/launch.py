"""Start `bedside serve` as a child process and wait until it answers /healthz.

Used by the tests and the benchmarks, which need a real server they can also kill -9.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from .educator import SAVED, SHOWN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, data_dir: Path, persona_dir: Path, port: int | None = None, *,
                 extra_args: list[str] | None = None, env: dict[str, str] | None = None, log_file: Path | None = None):
        self.data_dir, self.persona_dir = Path(data_dir), Path(persona_dir)
        self.port = port or free_port()
        self.extra_args = extra_args or []
        self.env = env
        self.log_file = log_file
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/session"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def start(self, timeout: float = 120.0) -> "ServerProcess":
        cmd = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", str(self.data_dir), "--persona-dir", str(self.persona_dir), *self.extra_args]
        env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
        env.update(self.env or {})
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.lines = []
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        threading.Thread(target=self._pump, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server not healthy after {timeout}s:\n{self.output()}")

    def _pump(self, proc: subprocess.Popen) -> None:
        fh = open(self.log_file, "a", encoding="utf-8") if self.log_file else None
        for line in proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if fh:
                fh.write(line)
                fh.flush()
        if fh:
            fh.close()

    def output(self) -> str:
        return "\n".join(self.lines)

    def printed_token(self) -> str | None:
        """The educator token this run generated, if it did: from the first-start line, which
        names the token's file (stdout is a pipe here, so the token itself is not printed)."""
        shown, saved = SHOWN.split("{path}")[0], SAVED.split("{path}")[0]
        for line in self.lines:
            if line.startswith(shown):
                return line.rsplit(" ", 1)[-1]
            if line.startswith(saved):
                return Path(line[len(saved):]).read_text(encoding="utf-8").strip()
        return None

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing; what a power cut looks like to the process."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_kib(self) -> int | None:
        """Resident memory (VmRSS) of the server process, from /proc."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
