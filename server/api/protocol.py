"""Websocket messages of /ws/session: JSON text frames discriminated by `type`.

docs/protocol.md is the prose version of this file; keep them in step.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal, Union

from pydantic import BaseModel, Field, StringConstraints, TypeAdapter, ValidationError

from ..core.types import EmotionalState, Style
from ..engine.summary import SessionSummary
from ..grading.base import Grade
from .schemas import PersonaInfo

# -- client -> server ----------------------------------------------------------------------


class SessionStart(BaseModel):
    type: Literal["session.start"]
    persona_id: str = Field(description="A persona id from GET /api/personas.")
    learner_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        description="Chosen by the client; pseudonymous is best.")
    mode: Literal["text", "voice"] = "text"
    learner_key: str | None = Field(None, max_length=200, description="The learner's personal key (POST /api/learner-keys). "
                                    "The first session with a key ties it to learner_id; after that only this key may start "
                                    "sessions under that learner_id, and it reads them with GET /api/me/sessions.")


class LearnerText(BaseModel):
    type: Literal["learner.text"]
    text: str
    client_turn_id: str | None = Field(None, max_length=100, description="Resend-safe id: a repeat is answered "
                                       "from the store instead of running a new turn.")
    interrupted: bool = Field(False, description="The learner spoke over the patient (voice clients).")


class SessionEnd(BaseModel):
    type: Literal["session.end"]


class LearnerAudioCommit(BaseModel):
    """Push-to-talk released: the spoken turn is over, whatever a semantic end-of-turn judge
    would make of the pause (voice sessions)."""

    type: Literal["learner.audio.commit"]


class SessionResume(BaseModel):
    type: Literal["session.resume"]
    session_id: str
    token: str = Field(description="The token from session.started.")


class TurnRetry(BaseModel):
    """Take back the last turn ("Try that again"), so the learner can say it another way."""

    type: Literal["turn.retry"]
    turn_id: int = Field(ge=1, lt=2**31, description="The last turn, once its patient.text has arrived; answered by "
                         "turn.rewound.")


ClientMessage = Annotated[Union[SessionStart, LearnerText, SessionEnd, SessionResume, LearnerAudioCommit, TurnRetry],
                         Field(discriminator="type")]
CLIENT_TYPES = ("session.start", "learner.text", "session.end", "session.resume", "learner.audio.commit", "turn.retry")
_client = TypeAdapter(ClientMessage)

# -- server -> client ----------------------------------------------------------------------


class TranscriptTurn(BaseModel):
    turn_id: int
    learner_text: str
    patient_text: str
    rewound: bool = Field(False, description="Taken back (\"Try that again\"): shown, but not part of the conversation.")
    retry_of: int | None = Field(None, description="The taken-back turn this one says another way.")


class SessionStarted(BaseModel):
    type: Literal["session.started"] = "session.started"
    session_id: str
    token: str = Field(description="Bearer token for this session only: resume it, or GET /api/sessions/{id}.")
    persona: PersonaInfo
    opening: str = Field(description="The patient's first words.")
    state: EmotionalState
    resumed: bool = False
    turns: list[TranscriptTurn] = Field(default_factory=list, description="Turns already stored (on resume).")


class PatientText(BaseModel):
    type: Literal["patient.text"] = "patient.text"
    turn_id: int
    text: str


class StateUpdate(BaseModel):
    type: Literal["state.update"] = "state.update"
    turn_id: int
    trust: float
    distress: float
    emotion: str
    style: Style


class GradeTurn(BaseModel):
    type: Literal["grade.turn"] = "grade.turn"
    turn_id: int
    learner_text: str
    act: str
    grade: Grade
    disclosed: list[str]
    client_turn_id: str | None = None
    replayed: bool = Field(False, description="True when answered from the store for a repeated client_turn_id.")
    retry_of: int | None = Field(None, description="The taken-back turn this one says another way (turn.retry).")
    timings_ms: dict[str, float] = Field(default_factory=dict, description="Engine stages plus 'commit' and "
                                         "'server_total' (engine + commit, as measured by the server).")


class TurnRewound(BaseModel):
    """The answer to turn.retry: the turn is taken back (kept in the record, marked) and the
    patient is as they were before it."""

    type: Literal["turn.rewound"] = "turn.rewound"
    turn_id: int = Field(description="The turn taken back.")
    state: EmotionalState = Field(description="The patient's state again, as before that turn.")
    previous_turn_id: int = Field(description="The lived turn the conversation continues from (0: the opening).")


class SessionSummaryMessage(BaseModel):
    type: Literal["session.summary"] = "session.summary"
    session_id: str
    summary: SessionSummary


ErrorCode = Literal[
    "bad_json", "bad_message", "no_session", "session_active", "unknown_persona", "invalid_persona_id",
    "text_too_long", "empty_turn", "unknown_session", "bad_token", "session_ended",
    "session_taken_over", "turn_conflict", "internal_error",
    # personal keys (server/api/learner_identity.py)
    "bad_learner_key", "learner_id_taken", "learner_key_mismatch",
    # turn.retry
    "retry_not_allowed", "retry_not_last", "retry_not_ready",
    # limits (server/api/limits.py)
    "busy", "audio_too_fast", "too_many_sessions", "idle_timeout", "session_too_long",
    # voice
    "bad_audio", "audio_frame_too_large", "audio_in_text_mode", "turn_too_long", "audio_timeout", "asr_failed",
]


class ErrorMessage(BaseModel):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str = Field(description="What was wrong and how to fix it.")


# -- voice events (docs/protocol.md, "Voice") -----------------------------------------------

class VadSpeechStarted(BaseModel):
    type: Literal["vad.speech_started"] = "vad.speech_started"
    during_patient: bool = Field(description="The learner started talking while the patient was speaking.")


class VadPause(BaseModel):
    """The semantic turn detector heard a pause it takes for thinking, not an end of turn
    (`waiting` true), or the learner went on after it (`waiting` false)."""

    type: Literal["vad.pause"] = "vad.pause"
    waiting: bool = Field(description="True: still listening through a pause; false: the learner is speaking again.")


class VadSpeechStopped(BaseModel):
    type: Literal["vad.speech_stopped"] = "vad.speech_stopped"


class VadDiscarded(BaseModel):
    type: Literal["vad.discarded"] = "vad.discarded"
    reason: str


class LearnerTranscript(BaseModel):
    type: Literal["learner.transcript"] = "learner.transcript"
    turn_id: int
    text: str


class PlaybackClear(BaseModel):
    type: Literal["playback.clear"] = "playback.clear"
    turn_id: int = Field(description="The patient turn whose audio must stop now.")


class PatientAudioStart(BaseModel):
    type: Literal["patient.audio.start"] = "patient.audio.start"
    turn_id: int
    sample_rate: int = Field(description="Rate of the PCM16 mono binary frames that follow.")


class PatientAudioEnd(BaseModel):
    type: Literal["patient.audio.end"] = "patient.audio.end"
    turn_id: int
    interrupted: bool = Field(description="The learner barged in and the rest of the reply was not sent.")


class MetricsTurn(BaseModel):
    type: Literal["metrics.turn"] = "metrics.turn"
    turn_id: int
    stages_ms: dict[str, float | None]
    audio_duration_s: float
    asr_backend: str
    no_speech_prob: float | None = None


ServerMessage = Annotated[Union[SessionStarted, PatientText, StateUpdate, GradeTurn, TurnRewound, SessionSummaryMessage, ErrorMessage,
                                VadSpeechStarted, VadSpeechStopped, VadPause, VadDiscarded, LearnerTranscript, PlaybackClear,
                                PatientAudioStart, PatientAudioEnd, MetricsTurn],
                          Field(discriminator="type")]


class ProtocolError(Exception):
    """Raised by handlers; the socket turns it into an `error` event and stays open."""

    def __init__(self, code: ErrorCode, message: str):
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")

    def event(self) -> ErrorMessage:
        return ErrorMessage(code=self.code, message=self.message)


def _describe(exc: ValidationError, kind: str) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        loc = [str(x) for x in err["loc"] if str(x) != kind]
        field = ".".join(loc) or "(message)"
        parts.append(f"'{field}' is missing" if err["type"] == "missing" else f"'{field}': {err['msg']}")
    return f"{kind}: " + "; ".join(parts) + " (see docs/protocol.md for the fields of each message)"


def _unstorable_text(node, path: str = "") -> str | None:
    """The first field whose text holds NUL or a lone surrogate (JSON allows "\\ud800"; neither
    database can store it: PostgreSQL refuses NUL, and neither encodes a lone surrogate)."""
    if isinstance(node, str):
        return path or "(text)" if ("\x00" in node or any("\ud800" <= ch <= "\udfff" for ch in node)) else None
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found = _unstorable_text(value, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def parse_client(raw: str) -> SessionStart | LearnerText | SessionEnd | SessionResume | LearnerAudioCommit | TurnRetry:
    """Parse one text frame, or raise ProtocolError(bad_json | bad_message) saying what to fix."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError("bad_json", f"the frame is not valid JSON ({exc}); send one JSON object per text frame") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_message", "send a JSON object with a 'type' field, e.g. {\"type\": \"session.end\"}")
    bad = _unstorable_text(data)
    if bad is not None:
        raise ProtocolError("bad_message", f"'{bad}' holds a NUL character or a lone UTF-16 surrogate, which cannot be "
                                           "stored; send plain Unicode text")
    kind = data.get("type")
    if kind not in CLIENT_TYPES:
        what = "has no 'type' field" if kind is None else f"has unknown type {kind!r}"
        raise ProtocolError("bad_message", f"the message {what}; use one of: {', '.join(CLIENT_TYPES)}")
    try:
        return _client.validate_python(data)
    except ValidationError as exc:
        raise ProtocolError("bad_message", _describe(exc, kind)) from None


def protocol_schema() -> dict:
    """JSON Schema of both directions, served at /api/protocol for client authors."""
    return {
        "client_to_server": TypeAdapter(ClientMessage).json_schema(),
        "server_to_client": TypeAdapter(ServerMessage).json_schema(),
    }
