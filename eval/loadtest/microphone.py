"""A browser's microphone, as the server hears it: 16 kHz PCM16 in 20 ms binary frames, paced in
real time. Hands-free, the page streams all the time (silence between turns); push-to-talk, it
streams only while the button is held and for a short tail after it."""

from __future__ import annotations

import asyncio
import time
from collections import deque

from websockets.exceptions import ConnectionClosed

from server.speech.asr.audio import SAMPLE_RATE

from .connection import Connection, ConnectionLost

FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * 2 * FRAME_MS // 1000
SILENCE = bytes(FRAME_BYTES)


class Microphone:
    def __init__(self, conn: Connection, handsfree: bool = True) -> None:
        self.conn, self.handsfree = conn, handsfree
        self._frames: deque[tuple[bytes, asyncio.Future | None]] = deque()
        self._task: asyncio.Task | None = None

    def start(self) -> "Microphone":
        self._task = asyncio.create_task(self._run())
        return self

    async def play(self, pcm: bytes) -> float:
        """Queue `pcm` behind what is already queued; returns (time.perf_counter()) when its last
        frame has been sent."""
        frames = [pcm[i: i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)] or [SILENCE]
        done = asyncio.get_running_loop().create_future()
        for frame in frames[:-1]:
            self._frames.append((frame, None))
        self._frames.append((frames[-1], done))
        return await done

    async def silence(self, seconds: float) -> float:
        return await self.play(bytes(2 * round(seconds * SAMPLE_RATE)))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        t0, i, done = loop.time(), 0, None
        try:
            while True:
                frame, done = self._frames.popleft() if self._frames else (SILENCE if self.handsfree else None, None)
                if frame is not None:
                    await self.conn.send(frame)
                if done is not None:
                    done.set_result(time.perf_counter())
                i += 1
                delay = t0 + i * FRAME_MS / 1000 - loop.time()
                if delay > 0:  # behind schedule (a busy client): catch up, as a browser's buffer does
                    await asyncio.sleep(delay)
                elif i % 50 == 0:
                    await asyncio.sleep(0)
        except ConnectionClosed:
            for waiting in [done, *(d for _, d in self._frames)]:
                if waiting is not None and not waiting.done():
                    waiting.set_exception(ConnectionLost())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
