"""The long-lived objects one server process shares between requests and sockets."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import Settings
from ..engine.patient import Engine
from ..store.base import SessionStore
from .limits import ClientSessions
from .live import LiveSessions


@dataclass
class Services:
    settings: Settings
    engine: Engine
    store: SessionStore
    educator_token: str
    live: LiveSessions = field(default_factory=LiveSessions)
    clients: ClientSessions = field(init=False)
    _judge: object = field(default=None, init=False, repr=False)
    _acoustic: object = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.clients = ClientSessions(self.settings.max_sessions_per_client)

    def transcriber(self):
        """The ASR backend, loaded once per process (serve.py preloads it)."""
        from ..speech.asr.factory import build_transcriber
        return build_transcriber(self.settings)

    def end_of_turn_judge(self):
        """The end-of-turn text model for the semantic turn detector (None with the silence
        detector), loaded once per process on the engine's MiniLM."""
        if self.settings.turn_detector != "semantic":
            return None
        if self._judge is None:
            from ..speech.end_of_turn.text_model import TextEndOfTurnModel
            self._judge = TextEndOfTurnModel(embedder=self.engine.embedder)
        return self._judge

    def end_of_turn_acoustic(self, policy):
        """The acoustic end-of-turn judge (smart-turn v3), loaded once per process, when the
        semantic detector's policy gives it weight; None otherwise."""
        if self.settings.turn_detector != "semantic" or policy.text_weight >= 1:
            return None
        if self._acoustic is None:
            from ..speech.end_of_turn.smart_turn import SmartTurnModel
            self._acoustic = SmartTurnModel()
        return self._acoustic

    def synthesizer(self):
        from ..speech.tts.factory import build_synthesizer
        return build_synthesizer(self.settings)
