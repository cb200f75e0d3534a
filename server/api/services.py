"""The long-lived objects one server process shares between requests and sockets."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

from ..config import Settings
from ..engine.patient import Engine
from ..store.base import SessionStore
from .connections import OpenConnections
from .leases import ReplicaLeases
from .limits import AddressRate, ClientSessions
from .live import LiveSessions

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    store: SessionStore
    educator_token: str
    live: LiveSessions = field(default_factory=LiveSessions)
    connections: OpenConnections = field(default_factory=OpenConnections)
    clients: ClientSessions = field(init=False)
    key_issues: AddressRate = field(init=False)
    _judge: object = field(default=None, init=False, repr=False)
    _acoustic: object = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.clients = ClientSessions(self.settings.max_sessions_per_client)
        self.key_issues = AddressRate(self.settings.learner_keys_per_hour)

    @cached_property
    def leases(self) -> ReplicaLeases:
        """This replica's session leases. A resume waits for a turn in flight elsewhere at most as
        long as a turn can take: the reply's and the judge's budgets, plus one lease lifetime."""
        s = self.settings
        return ReplicaLeases(self.store.leases, s.lease_ttl_s,
                             max_wait_s=s.lease_ttl_s + s.realiser_timeout_s + s.judge_timeout_s)

    def transcriber(self):
        """The ASR backend, loaded once per process (serve.py preloads it)."""
        from ..speech.asr.factory import build_transcriber
        return build_transcriber(self.settings)

    def end_of_turn_policy(self):
        """The end-of-turn rule of every voice session (docs/end-of-turn.md)."""
        from ..speech.end_of_turn.policy import EndOfTurnPolicy
        s = self.settings
        return EndOfTurnPolicy(mode=s.turn_detector, silence_ms=s.vad_silence_ms, max_silence_ms=s.max_pause_ms)

    def end_of_turn_judge(self):
        """The end-of-turn text model for the semantic turn detector (None with the silence
        detector), loaded once per process on the engine's MiniLM (serve.py preloads it)."""
        if self.settings.turn_detector != "semantic":
            return None
        if self._judge is None:
            from ..speech.end_of_turn.text_model import TextEndOfTurnModel
            try:
                self._judge = TextEndOfTurnModel(embedder=self.engine.embedder, runtime=self.settings.minilm_runtime)
            except (OSError, ValueError) as exc:  # no artefact, or one for other code: voice goes on
                log.error("the end-of-turn judge is unavailable (%s); spoken turns end after the silence "
                          "(--vad-silence-ms). Retrain it with `bedside turn train --shared PATH`", exc)
                self._judge = False
        return self._judge or None

    def end_of_turn_acoustic(self):
        """The acoustic end-of-turn judge (smart-turn v3), loaded once per process, when the
        semantic detector's policy gives it weight; None otherwise."""
        if self.settings.turn_detector != "semantic" or self.end_of_turn_policy().text_weight >= 1:
            return None
        if self._acoustic is None:
            from ..speech.end_of_turn.smart_turn import SmartTurnModel, SmartTurnUnavailable
            try:
                self._acoustic = SmartTurnModel()
            except (SmartTurnUnavailable, OSError) as exc:  # the text judge decides alone
                log.error("the acoustic end-of-turn judge is unavailable: %s", exc)
                self._acoustic = False
        return self._acoustic or None

    def preload_end_of_turn(self) -> None:
        """Load the end-of-turn judges and run the text one once, so neither the first voice
        session (on the event loop) nor its first pause pays for loading them."""
        judge = self.end_of_turn_judge()
        if judge is not None:
            judge.probability_complete("warming up")
        self.end_of_turn_acoustic()

    def synthesizer(self):
        from ..speech.tts.factory import build_synthesizer
        return build_synthesizer(self.settings)

    def end_of_turn_loaded(self) -> dict[str, bool | None]:
        """The end-of-turn judges the semantic detector uses, without loading any (the readiness
        probe asks): True loaded, False failed to load, None not loaded yet. Empty with the
        silence detector, which needs no model."""
        if self.settings.turn_detector != "semantic":
            return {}
        state = {"text judge": None if self._judge is None else bool(self._judge)}
        if self.end_of_turn_policy().text_weight < 1:
            state["acoustic judge"] = None if self._acoustic is None else bool(self._acoustic)
        return state
