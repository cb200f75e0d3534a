"""Speech recognition for one voice channel: one Whisper run at a time, started early.

The channel starts ASR during the end-of-turn silence, before it knows the turn is over. If
the learner speaks again, that run is for a superseded speech end. A worker thread cannot be
stopped, so a superseded run is left to finish and its text dropped, and no other run starts
until its thread has ended: on two cores an orphaned Whisper run would slow the one that
matters. A run superseded while it waits for the thread never starts.
"""

from __future__ import annotations

import asyncio

import numpy as np

from ..speech.asr.base import Transcriber, Transcript


class EarlyASR:
    def __init__(self, transcriber: Transcriber) -> None:
        self.transcriber = transcriber
        self._thread: asyncio.Future | None = None  # the run in its worker thread, if any
        self._early: tuple[float, asyncio.Task] | None = None  # (speech end ms, its run)

    def start(self, speech_end_ms: float, audio: np.ndarray, language: str | None) -> None:
        """Recognise the speech up to this speech end during the silence after it; an earlier
        early run is superseded."""
        self.drop()
        self._early = (speech_end_ms, asyncio.create_task(self.transcribe(audio, language)))

    def pending(self, speech_end_ms: float | None) -> asyncio.Task | None:
        """The early run for this speech end, left in place for the turn to take."""
        early = self._early
        return early[1] if early is not None and early[0] == speech_end_ms else None

    def take(self, speech_end_ms: float | None) -> asyncio.Task | None:
        """The early run for the turn that ended at this speech end, if one was started for it;
        a run for any other speech end is dropped."""
        early = self._early
        if early is not None and early[0] == speech_end_ms:
            self._early = None
            return early[1]
        self.drop()
        return None

    def drop(self) -> None:
        """The early run is not wanted (speech resumed, barge-in, the channel closed): if it is
        waiting it never starts; if it is in its thread, its text is dropped."""
        if self._early is not None:
            self._early[1].cancel()
            self._early = None

    async def transcribe(self, audio: np.ndarray, language: str | None) -> Transcript:
        """Recognise now, after any run still in its thread, even one nobody wants any more.
        Cancelling the caller leaves the thread running, and the next run waits for it."""
        while self._thread is not None and not self._thread.done():
            await asyncio.wait([self._thread])
        self._thread = asyncio.ensure_future(asyncio.to_thread(self.transcriber.transcribe, audio, language))
        self._thread.add_done_callback(_consume)
        return await asyncio.shield(self._thread)


def _consume(run: asyncio.Future) -> None:
    """A dropped run's failure has no one to tell; read it so asyncio does not log it as lost."""
    if not run.cancelled():
        run.exception()
