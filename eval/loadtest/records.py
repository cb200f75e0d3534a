"""What one simulated learner saw: per-turn stage timings, the turn ids the server acknowledged
and the errors it met. The report is made from these alone."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class SessionRecord:
    session_no: int
    persona_id: str
    learner_id: str
    session_id: str | None = None
    token: str | None = None
    turns_attempted: int = 0
    acknowledged: set[int] = field(default_factory=set)  # turn ids of grade.turn events: committed before sent
    discarded: int = 0  # voice: audio the server took for non-speech (vad.discarded)
    extra_turns: int = 0  # voice: turns the server cut out of one spoken line (a pause taken for its end)
    errors: Counter = field(default_factory=Counter)  # error code -> count (server codes; client.* for ours)
    samples: list[dict[str, float]] = field(default_factory=list)  # one dict of stage -> ms per answered turn

    def error(self, code: str) -> None:
        self.errors[code] += 1


# client-side failures, named apart from the server's error codes (docs/protocol.md)
CONNECT_FAILED = "client.connect_failed"
CONNECTION_LOST = "client.connection_lost"
REPLY_TIMEOUT = "client.reply_timeout"
NO_SUMMARY = "client.no_summary"

# the stages of one turn, in ms: the client's own measure, then what the server reports
SERVER_TEXT_STAGES = {  # grade.turn timings_ms key -> report name
    "server_total": "server.turn", "total": "server.engine", "commit": "server.commit",
    "understand": "server.understand", "grade": "server.grade", "state": "server.state",
    "plan": "server.plan", "realise": "server.realise",
}
SERVER_VOICE_STAGES = {  # metrics.turn stages_ms key -> report name
    "voice_to_voice_ms": "server.voice_to_voice", "speech_end_to_endpoint_ms": "server.endpoint",
    "asr_ms": "server.asr", "asr_wait_after_endpoint_ms": "server.asr_wait", "engine_commit_ms": "server.engine_commit",
    "first_sentence_ms": "server.first_sentence", "tts_first_audio_ms": "server.tts_first_audio",
}


def server_stages(source: dict, names: dict[str, str]) -> dict[str, float]:
    """The stage timings a server event carries, under the report's names (missing ones left out)."""
    return {name: float(source[key]) for key, name in names.items() if isinstance(source.get(key), (int, float))}
