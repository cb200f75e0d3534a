"""What every model realiser shares: prompt, bounded generation, the grounding check and
the fall back to the template realiser.

A backend only has to turn chat messages into a stream of text pieces (`_generate`).
Around that:

- `realise_checked` generates the whole reply, checks it (server/realise/grounding.py) and
  returns it, or the template realisation with the reason and the rejected text. It
  stops generating at the first sentence that can never pass, so a bad reply costs little.
- `stream` yields the reply sentence by sentence as the model produces it, each sentence
  checked before it is yielded, so speech can start while the rest is generated. When a
  sentence fails, generation stops; if nothing was yielded yet the template reply is
  yielded instead, otherwise the planned lines the reply has not yet carried are.
- a cancel event (barge-in) stops generation between two tokens.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator

from ..core.text import split_sentences
from ..core.types import ContentPlan, SessionState
from ..persona.schema import PersonaPack
from .base import Realisation, Realiser
from .grounding import Grounding, clean_generation
from .lexicon import tokens
from .prompt import build_messages
from .template import TemplateRealiser

log = logging.getLogger(__name__)


class RealiserUnavailable(Exception):
    """The backend could not produce text (time-out, connection error, busy, bad response)."""


class SentenceSplitter:
    """Cut a growing text into sentences as soon as each one is known to be complete."""

    _END = re.compile(r"[.!?…]+['\"\u201d]?(?=\s)")

    def __init__(self) -> None:
        self.buf = ""

    def feed(self, piece: str) -> list[str]:
        self.buf += piece
        out = []
        while True:
            m = self._END.search(self.buf)
            if not m:
                break
            sentence, self.buf = self.buf[: m.end()].strip(), self.buf[m.end():]
            if sentence:
                out.append(sentence)
        return out

    def flush(self) -> str:
        rest, self.buf = self.buf.strip(), ""
        return rest


def token_budget(planned: str, cap: int) -> int:
    """Room for a light paraphrase of the planned words, and no more."""
    return max(8, min(cap, int(len(tokens(planned)) * 1.6) + 16))


class ModelRealiser(Realiser):
    """Base of the model-backed realisers; subclasses implement `_generate`."""

    name = "model"
    streams = True

    def __init__(self, *, max_new_tokens: int = 120, timeout_s: float = 30.0, fallback: TemplateRealiser | None = None):
        self.max_new_tokens = max_new_tokens
        self.timeout_s = timeout_s
        self.fallback = fallback or TemplateRealiser()
        self.last: Realisation | None = None  # the most recent outcome, for benchmarks and logs

    # -- backend ----------------------------------------------------------------------
    def _generate(self, messages: list[dict], max_new_tokens: int, cancel: threading.Event,
                  deadline: float) -> Iterator[str]:
        """Yield text pieces; stop promptly once `cancel` is set; raise RealiserUnavailable."""
        raise NotImplementedError

    def generated_tokens(self) -> int:
        """Tokens produced by the last `_generate` call (backends override when they know)."""
        return 0

    def warm(self) -> None:
        """Load what the backend needs now, not on the first turn."""

    # -- the Realiser protocol ----------------------------------------------------------
    def _begin(self, pack: PersonaPack, plan: ContentPlan, state: SessionState, cancel: threading.Event | None):
        """What both paths start from: the clock, the check, the template wording (the
        fallback and the prompt's content), the prompt, and the cancel and stop events."""
        t0 = time.perf_counter()
        planned = self.fallback.realise(pack, plan, state)
        return (t0, Grounding(pack, plan, state), planned, build_messages(pack, plan, state, planned),
                cancel or threading.Event(), threading.Event())

    def realise(self, pack: PersonaPack, plan: ContentPlan, state: SessionState) -> str:
        return self.realise_checked(pack, plan, state).text

    def realise_checked(self, pack: PersonaPack, plan: ContentPlan, state: SessionState,
                        cancel: threading.Event | None = None) -> Realisation:
        t0, g, planned, messages, cancel, stop = self._begin(pack, plan, state, cancel)
        both = _AnyEvent(cancel, stop)
        splitter = SentenceSplitter()
        pieces: list[str] = []
        first_piece = first_sentence = None
        early: list[str] = []
        error = None
        count = 0
        gen = self._generate(messages, token_budget(planned, self.max_new_tokens), both, t0 + self.timeout_s)
        try:
            for piece in gen:
                if first_piece is None:
                    first_piece = time.perf_counter()
                pieces.append(piece)
                for sentence in splitter.feed(piece):
                    count += 1
                    if first_sentence is None:
                        first_sentence = time.perf_counter()
                    early = g.check_sentence(sentence)
                    if count > g.limit:
                        early = early or [f"more than {g.limit} sentences"]
                    if early:
                        break
                if early or cancel.is_set():
                    break
        except RealiserUnavailable as exc:
            error = str(exc)
        finally:
            stop.set()
            gen.close()
        t1 = time.perf_counter()
        raw = "".join(pieces)
        text = clean_generation(raw)
        ms = lambda a: round((a - t0) * 1000, 1) if a else None
        timings = {k: v for k, v in (("first_token", ms(first_piece)), ("first_sentence", ms(first_sentence)),
                                     ("generate", ms(t1))) if v is not None}
        n_tok = self.generated_tokens()
        if cancel.is_set():
            reason = "cancelled"
        elif error:
            reason = f"{self.name} unavailable: {error}"
        else:
            verdict = g.check(text)
            reason = None if verdict.ok else verdict.reason
            if early and verdict.ok:  # cannot happen (the early failure is part of the check), but be safe
                reason = "; ".join(early)
            if reason and early:
                reason = "stopped early: " + reason
        if reason is None:
            out = Realisation(text, self.name, raw=raw, tokens=n_tok, timings_ms=timings)
        else:
            if reason != "cancelled":
                log.warning("%s reply rejected (%s); using the template. Rejected: %r", self.name, reason, text or raw)
            out = Realisation(planned, f"template(fallback:{self.name})", fallback_reason=reason,
                              rejected=text or raw, raw=raw, tokens=n_tok, timings_ms=timings)
        self.last = out
        return out

    def stream(self, pack: PersonaPack, plan: ContentPlan, state: SessionState,
               cancel: threading.Event | None = None,
               on_done: Callable[[Realisation], None] | None = None) -> Iterator[str]:
        """Checked sentences as they are generated; see the module docstring for failures.

        When the stream ends, `on_done` gets the outcome (what was said, the label, the reason
        for any fallback and the rejected text); `self.last` holds it too, but is shared by
        every session using this realiser.
        """
        t0, g, planned, messages, cancel, stop = self._begin(pack, plan, state, cancel)
        splitter = SentenceSplitter()
        spoken: list[str] = []
        pieces: list[str] = []
        reason = None
        first_sentence = None
        gen = self._generate(messages, token_budget(planned, self.max_new_tokens), _AnyEvent(cancel, stop),
                             t0 + self.timeout_s)

        def accept(sentence: str) -> bool:
            nonlocal reason
            sentence = clean_generation(sentence)
            problems = g.check_sentence(sentence) + g.check_novelty(sentence) + g.check_form(sentence, [sentence])
            if len(spoken) + 1 > g.limit:
                problems.append(f"more than {g.limit} sentences")
            if any(sentence.lower() == s.lower() for s in spoken):
                problems.append(f"repeats a sentence: {sentence!r}")
            if problems:
                reason = "; ".join(problems)
                return False
            return True

        try:
            try:
                for piece in gen:
                    pieces.append(piece)
                    for sentence in splitter.feed(piece):
                        if not accept(sentence):
                            break
                        spoken.append(clean_generation(sentence))
                        if first_sentence is None:
                            first_sentence = time.perf_counter()
                        yield spoken[-1]
                    if reason or cancel.is_set():
                        break
                rest = splitter.flush()
                if not reason and not cancel.is_set() and rest and re.search(r"[.!?…]['\"]?$", rest) and accept(rest):
                    spoken.append(clean_generation(rest))
                    yield spoken[-1]
            except RealiserUnavailable as exc:
                reason = f"{self.name} unavailable: {exc}"
            finally:
                stop.set()
                gen.close()
            if cancel.is_set():
                self.last = Realisation(" ".join(spoken), self.name, "cancelled", raw="".join(pieces))
                if on_done is not None:
                    on_done(self.last)
                return
            said = " ".join(spoken)
            if not spoken:
                reason = reason or "no sentence generated"
                log.warning("%s stream rejected (%s); using the template. Rejected: %r", self.name, reason, "".join(pieces))
                extra = split_sentences(planned)
                label = f"template(fallback:{self.name})"
            else:
                missing = [u for u in g.units if g.unit_missing(u, said)]
                extra = [s for u in missing for s in split_sentences(u.text)][: max(0, g.limit - len(spoken))]
                if missing:
                    why = "; ".join(g.unit_missing(u, said) for u in missing)
                    reason = f"{reason}; {why}" if reason else why
                label = self.name if not extra else f"{self.name}+template"
            for s in extra:
                if cancel.is_set():
                    break
                yield s
            text = " ".join(spoken + extra)
            timings = {"first_sentence": round((first_sentence - t0) * 1000, 1)} if first_sentence else {}
            self.last = Realisation(text, label, fallback_reason=reason, rejected="".join(pieces) if reason else None,
                                    raw="".join(pieces), tokens=self.generated_tokens(), timings_ms=timings)
            if on_done is not None:
                on_done(self.last)
        finally:
            stop.set()


class _AnyEvent:
    """Looks like a threading.Event that is set when any of its events is."""

    def __init__(self, *events: threading.Event):
        self.events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)

    def set(self) -> None:
        self.events[-1].set()

    def wait(self, timeout: float | None = None) -> bool:
        end = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            if end is not None and time.monotonic() >= end:
                return False
            time.sleep(0.01)
        return True
