"""A model realiser's reply for one committed voice turn, spoken sentence by sentence.

The turn (grade, state, plan and the template wording as a provisional reply) is committed
before generation starts, so a crash mid-reply loses nothing. The model's checked sentences
then reach the synthesiser as each one is complete, instead of after the whole reply; this
is what lets a slow CPU model still start speaking early. A barge-in sets `cancel`, which
stops generation between two tokens. When the stream ends, `outcome()` says what was said.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator

from ..core.text import split_sentences
from ..engine.patient import PendingTurn
from ..realise.base import Realisation

log = logging.getLogger(__name__)

_DONE = object()


class StreamedReply:
    def __init__(self, realiser, pending: PendingTurn, planned: str):
        self.realiser = realiser
        self.pending = pending
        self.planned = planned
        self.cancel = threading.Event()
        self.spoken: list[str] = []
        self._outcome: Realisation | None = None
        self._error: str | None = None

    def _done(self, outcome: Realisation) -> None:
        self._outcome = outcome

    async def sentences(self) -> AsyncIterator[str]:
        """Checked sentences as the model produces them (generation runs in a worker thread)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        p = self.pending

        def run() -> None:
            try:
                for sentence in self.realiser.stream(p.pack, p.plan, p.state, cancel=self.cancel, on_done=self._done):
                    loop.call_soon_threadsafe(queue.put_nowait, sentence)
            except Exception as exc:  # a backend bug must not silence the patient
                log.exception("streamed reply failed; speaking the template wording")
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        worker = asyncio.ensure_future(asyncio.to_thread(run))
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                if isinstance(item, Exception):
                    self._error = f"stream failed: {item}"
                    continue
                self.spoken.append(item)
                yield item
            if self._error and not self.spoken:
                for sentence in split_sentences(self.planned):
                    self.spoken.append(sentence)
                    yield sentence
        finally:
            self.cancel.set()  # no-op if the stream already ended; stops it on barge-in
            await worker

    def outcome(self) -> Realisation:
        """What the patient said this turn, with the realiser label and any fallback reason."""
        name = getattr(self.realiser, "name", "model")
        said = " ".join(self.spoken)
        if self._error:
            label = f"template(fallback:{name})" if said == " ".join(split_sentences(self.planned)) else f"{name}+template"
            return Realisation(said or self.planned, label, fallback_reason=self._error)
        out = self._outcome
        if out is None or out.fallback_reason == "cancelled":
            # cut off by a barge-in: record the sentences that were produced, or the plan if none were
            return Realisation(said or self.planned, name if said else f"template(fallback:{name})",
                               fallback_reason="cancelled by barge-in", raw=out.raw if out else "")
        return Realisation(said or out.text, out.realiser, fallback_reason=out.fallback_reason, rejected=out.rejected,
                           raw=out.raw, tokens=out.tokens, timings_ms=out.timings_ms)
