"""One websocket's side of a session: turns client messages into committed turns and events.

Transport-free: every event, from a typed turn or a voice turn, goes out through the `Outbox`
it is given, after the turn it reports is committed (`commit_turn` returns the events; its
callers send them). It is also the voice channel's `VoicePort`. All engine and store calls run
in worker threads; the event loop only shuffles messages.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from ..core.types import SessionState
from ..engine.summary import summarise
from ..persona.loader import check_persona_id
from ..persona.schema import PersonaPack
from ..realise.base import Realisation
from ..speech.tts.sentences import split_for_speech
from ..store.base import LeaseLost, RewindRefused, SessionEnded, TurnConflict
from ..store.branches import Branches, is_rewound, lived_turns, retry_of, rewound_mark
from ..store.records import Lease, SessionRecord, TurnRecord
from ..store.tokens import new_token, token_matches
from ..timing import Laps
from .learner_identity import learner_for_start
from .limits import AudioPace, TurnRate, check_session_age
from .outbox import Outbox
from .protocol import (
    GradeTurn,
    LearnerAudioCommit,
    LearnerText,
    PatientText,
    ProtocolError,
    SessionEnd,
    SessionResume,
    SessionStart,
    SessionStarted,
    SessionSummaryMessage,
    StateUpdate,
    TranscriptTurn,
    TurnRetry,
    TurnRewound,
)
from .schemas import PersonaInfo
from .services import Services
from .streamed_reply import StreamedReply

log = logging.getLogger(__name__)


def turn_events(record: TurnRecord, *, replayed: bool = False, timings: dict[str, float] | None = None) -> list:
    """The three events of an acknowledged turn, in protocol order."""
    e = record.state_after
    return [
        GradeTurn(turn_id=record.turn_index, learner_text=record.learner_text, act=record.act, grade=record.grade,
                  disclosed=record.disclosed, client_turn_id=record.client_turn_id, replayed=replayed,
                  retry_of=retry_of(record), timings_ms=timings if timings is not None else record.timings_ms),
        StateUpdate(turn_id=record.turn_index, trust=e.trust, distress=e.distress, emotion=e.emotion, style=e.style),
        PatientText(turn_id=record.turn_index, text=record.reply),
    ]


def streams_replies(realiser) -> bool:
    """A model realiser (checked, streaming) is worth streaming; the template is instant."""
    return realiser.streams


def realisation_extra(realiser: str, reason: str | None, rejected: str | None, **more) -> dict:
    """How the reply was worded, stored in the turn's `extra` (exported as fallback_reason, rejected_reply)."""
    out = {"realiser": realiser, "fallback_reason": reason, "rejected_reply": rejected}
    out.update({k: v for k, v in more.items() if v is not None})
    return out


@dataclass
class TurnHold:
    """The lease a turn runs under; `done` once a fenced write has ended the turn in the database."""

    lease: Lease
    done: bool = False


def ended_error(session_id: str) -> ProtocolError:
    return ProtocolError("session_ended", f"session {session_id} has ended; read its summary with "
                         f"GET /api/sessions/{session_id} (Bearer <token>) or start a new session")


class Conversation:
    def __init__(self, services: Services, outbox: Outbox, client: str = "local"):
        self.services = services
        self.client = client  # the peer's address, for the per-client session cap
        settings = services.settings
        self._rate = TurnRate(settings.max_turns_per_minute)
        self._pace = AudioPace(settings.audio_max_speed)
        self._since = time.monotonic()  # when this connection took its session
        self.session: SessionRecord | None = None
        self.state: SessionState | None = None
        self.token: str | None = None
        self.connection_id = uuid.uuid4().hex[:12]  # this socket, in its replica's session leases
        self.lease: Lease | None = None  # the session's lease in the database, while this connection drives it
        self.closed = False
        self.voice = None  # a VoiceChannel in voice mode
        self.outbox = outbox
        self._streams: dict[int, StreamedReply] = {}  # committed voice turns whose words are being generated
        self.branches = Branches()  # taken-back turns ("Try that again"): store index offset, retry to mark

    # -- voice -----------------------------------------------------------------------------
    def _open_voice(self) -> None:
        from ..speech.turns import TurnConfig
        from ..store.audio import session_audio_dir
        from .voice import VoiceChannel

        settings = self.services.settings
        audio_dir = session_audio_dir(settings.data_dir, self.session.id) if settings.store_audio else None
        config = TurnConfig(silence_ms=settings.vad_silence_ms, barge_in_ms=settings.barge_in_ms)
        self.voice = VoiceChannel(self, self.outbox, self.services.transcriber(), self.services.synthesizer(),
                                  config=config, audio_dir=audio_dir, end_of_turn=self.services.end_of_turn_policy(),
                                  judge=self.services.end_of_turn_judge(),
                                  acoustic=self.services.end_of_turn_acoustic())

    # the VoicePort the voice channel calls
    async def commit_voice_turn(self, text: str, interrupted: bool, extra: dict) -> tuple[TurnRecord, list]:
        return await self.commit_turn(text, interrupted=interrupted, extra=extra, mark_previous=False, stream=True)

    async def annotate_turn(self, turn_index: int, extra: dict, interrupted: bool | None = None) -> None:
        await asyncio.to_thread(self.services.store.annotate_turn, self.session.id, turn_index, extra, interrupted=interrupted)

    def voice_and_state(self):
        pack = self.services.engine.pack(self.session.persona_id)
        return pack.voice, self.state.emotional, pack.identity.language

    async def on_audio(self, data: bytes) -> None:
        """A binary frame: learner audio for a voice session."""
        from .voice import AudioError

        if self.session is None:
            raise ProtocolError("no_session", "audio arrived before session.start; start a session with mode \"voice\" first")
        if self.voice is None:
            raise ProtocolError("audio_in_text_mode", "this session is in text mode; send learner.text, or start a new "
                                "session with mode \"voice\" to talk")
        self._pace.check(len(data))
        try:
            await self.voice.on_audio(data)
        except AudioError as exc:
            raise ProtocolError(exc.code, exc.message) from None

    async def close_voice(self) -> None:
        if self.voice is not None:
            await self.voice.close()
            self.voice = None

    # -- dispatch --------------------------------------------------------------------------
    async def handle(self, msg) -> None:
        """Act on one client message and send its events."""
        for event in await self._events_of(msg):
            await self.outbox.send(event)

    async def _events_of(self, msg) -> list:
        if isinstance(msg, SessionStart):
            return await self._start(msg)
        if isinstance(msg, SessionResume):
            return await self._resume(msg)
        if self.session is None:
            raise ProtocolError("no_session", f"'{msg.type}' needs a session: send session.start "
                                "(or session.resume with your session_id and token) first")
        if isinstance(msg, LearnerText):
            return await self._turn(msg)
        if isinstance(msg, SessionEnd):
            return await self._end()
        if isinstance(msg, TurnRetry):
            return await self._retry(msg)
        if isinstance(msg, LearnerAudioCommit):
            if self.voice is None:
                raise ProtocolError("audio_in_text_mode", "learner.audio.commit ends a spoken turn, and this session is "
                                    "in text mode; send learner.text, or start a new session with mode \"voice\"")
            await self.voice.commit_turn()
            return []
        raise ProtocolError("bad_message", f"unhandled message type '{msg.type}'")

    async def detach(self) -> None:
        """The socket is gone: let a reconnect claim the session without a takeover, on any replica."""
        self.services.clients.leave(self.client, self)
        if self.session is not None:
            self.services.live.release(self.session.id, self, ended=self.closed)
            if self.lease is not None and not self.closed:  # an ended session's lease went with it
                await self.services.leases.release(self.lease)

    # -- handlers --------------------------------------------------------------------------
    def _pack(self, persona_id: str) -> PersonaPack:
        engine = self.services.engine
        try:
            check_persona_id(persona_id)
        except ValueError as exc:
            raise ProtocolError("invalid_persona_id", f"{exc}; pick an id from GET /api/personas") from None
        try:
            return engine.pack(persona_id)
        except KeyError:
            known = ", ".join(sorted(engine.registry.packs)) or "(none loaded)"
            raise ProtocolError("unknown_persona", f"no persona '{persona_id}' is loaded; available: {known}") from None

    def _require_free(self) -> None:
        if self.session is not None:
            raise ProtocolError("session_active", f"session {self.session.id} is already running on this connection; "
                                "send session.end first, or open a new connection")

    async def _start(self, msg: SessionStart) -> list:
        self._require_free()
        pack = self._pack(msg.persona_id)
        learner_id = await learner_for_start(self.services.store.learner_keys, msg.learner_id, msg.learner_key)
        self.services.clients.enter(self.client, self)
        self._since = time.monotonic()
        state, opening = await asyncio.to_thread(self.services.engine.start, pack.id)
        token = new_token()
        record = await asyncio.to_thread(self.services.store.create_session, learner_id=learner_id,
                                         persona_id=pack.id, mode=msg.mode, token=token, opening=opening,
                                         initial_state=state)
        self.lease = await self.services.leases.claim(record.id, self.connection_id)
        self.services.live.claim(record.id, self)
        self.session, self.state, self.token = record, state, token
        self.branches = Branches()
        if msg.mode == "voice":
            self._open_voice()
        return [SessionStarted(session_id=record.id, token=token, persona=PersonaInfo.of(pack), opening=opening,
                               state=state.emotional)]

    async def _resume(self, msg: SessionResume) -> list:
        self._require_free()
        store, live = self.services.store, self.services.live
        record = await asyncio.to_thread(store.get_session, msg.session_id)
        if record is None:
            raise ProtocolError("unknown_session", f"no session '{msg.session_id}'; start a new one with session.start")
        if not token_matches(msg.token, record.token_hash):
            raise ProtocolError("bad_token", "that token does not belong to this session; use the token from its session.started")
        if record.status == "ended":
            raise ended_error(record.id)
        pack = self._pack(record.persona_id)
        self.services.clients.enter(self.client, self)
        self._since = time.monotonic()
        async with live.lock(record.id):  # a turn in flight in this process commits first
            try:  # and one in flight on another replica (api/leases.py)
                lease = await self.services.leases.take(record.id, self.connection_id)
            except SessionEnded:  # ended while this resume waited
                raise ended_error(record.id) from None
            previous = live.claim(record.id, self)
            state = await asyncio.to_thread(store.latest_state, record.id)
            turns = await asyncio.to_thread(store.turns, record.id)
        if previous is not None:
            log.info("session %s taken over by a resumed connection (lease epoch %d)", record.id, lease.epoch)
        self.session, self.state, self.token, self.lease = record, state, msg.token, lease
        self.branches = Branches.of(turns)
        if record.mode == "voice":
            self._open_voice()
        return [SessionStarted(session_id=record.id, token=msg.token, persona=PersonaInfo.of(pack), opening=record.opening,
                               state=state.emotional, resumed=True,
                               turns=[TranscriptTurn(turn_id=t.turn_index, learner_text=t.learner_text, patient_text=t.reply,
                                                     rewound=is_rewound(t), retry_of=retry_of(t))
                                      for t in turns])]

    @asynccontextmanager
    async def _turn_hold(self) -> AsyncIterator[TurnHold]:
        """One turn (or retry, or end) of this connection's session: the session's lock in this
        process, and its lease marked busy in the database, so a resume anywhere waits for the
        turn's commit. The lease is checked first in memory (a takeover in this process), then in
        the database (on another replica); either way the caller gets `session_taken_over`."""
        sid = self.session.id
        async with self.services.live.lock(sid):
            if not self.services.live.owns(sid, self) or self.lease is None:
                raise self._taken_over()
            try:
                await self.services.leases.begin_turn(self.lease)
            except LeaseLost:
                raise self._taken_over() from None
            hold = TurnHold(self.lease)
            try:
                yield hold
            except LeaseLost:  # a fenced write found the session taken over: nothing was written
                hold.done = True
                raise self._taken_over() from None
            finally:
                if not hold.done:
                    await self.services.leases.end_turn(hold.lease)

    def _taken_over(self) -> ProtocolError:
        sid = self.session.id
        self.services.live.release(sid, self)
        self.session = self.state = self.lease = None
        return ProtocolError("session_taken_over", f"session {sid} was resumed on another connection; "
                             "continue there, or send session.resume here to take it back")

    async def _turn(self, msg: LearnerText) -> list:
        self._rate.check()
        _, events = await self.commit_turn(msg.text, interrupted=msg.interrupted, client_turn_id=msg.client_turn_id)
        return events

    async def commit_turn(self, text: str, *, interrupted: bool = False, extra: dict | None = None,
                          client_turn_id: str | None = None, mark_previous: bool = True,
                          stream: bool = False) -> tuple[TurnRecord, list]:
        """Run one learner turn (typed, or transcribed by a voice channel) and commit it.

        Returns the stored record and its events; the caller sends them, so nothing reaches
        the client before the commit. A repeated client_turn_id returns the stored turn.

        With `stream` (the voice channel) and a model realiser, the turn is committed with the
        template wording as a provisional reply and no `patient.text` event; the model's
        checked sentences are then spoken as they come (`reply_sentences`) and the words
        actually said replace the provisional reply.
        """
        if self.session is None:
            raise ProtocolError("no_session", "start or resume a session before sending turns")
        settings, store, engine = self.services.settings, self.services.store, self.services.engine
        text = text.strip()
        if not text:
            raise ProtocolError("empty_turn", "the turn has no words; send the learner's words in 'text'")
        if len(text) > settings.max_text_chars:
            raise ProtocolError("text_too_long", f"the turn has {len(text)} characters, over the limit of "
                                f"{settings.max_text_chars}; split it into shorter turns")
        check_session_age(self._since, settings.max_session_minutes)
        sid = self.session.id
        async with self._turn_hold() as hold:
            laps = Laps()
            if client_turn_id:
                seen = await asyncio.to_thread(store.find_client_turn, sid, client_turn_id)
                if seen is not None:
                    return seen, turn_events(seen, replayed=True)
            streamed = None
            if stream and streams_replies(engine.realiser):
                streamed, result, new_state = await asyncio.to_thread(self._begin_streamed, text, interrupted)
            else:
                result, new_state = await asyncio.to_thread(engine.respond, self.state, text, interrupted=interrupted)
            laps.lap("respond")
            if self.branches.offset:  # the engine counts lived turns; the store counts every turn
                result = result.model_copy(update={"turn_index": result.turn_index + self.branches.offset})
            extra = {**(extra or {}), "plan": result.plan.model_dump(mode="json"), "barged_in": interrupted}
            if self.branches.open_retry is not None:
                extra["retry_of"] = self.branches.open_retry
            if streamed is not None:
                extra["reply_status"] = "streaming"
            elif result.fallback_reason or result.rejected_reply:
                extra["realisation"] = realisation_extra(result.realiser, result.fallback_reason, result.rejected_reply)
            if client_turn_id:
                extra["client_turn_id"] = client_turn_id
            # the turn's other writes (marks on earlier turns) follow, and the turn ends after them
            follow_up = (interrupted and mark_previous and self.branches.last_lived > 0) or "retry_of" in extra
            try:
                record = await asyncio.to_thread(store.append_turn, sid, result, new_state, extra=extra,
                                                 lease=hold.lease, last_write=not follow_up)
                hold.done = not follow_up
                if interrupted and mark_previous and self.branches.last_lived > 0:
                    # the learner spoke over the patient's previous reply: mark that reply
                    await asyncio.to_thread(store.annotate_turn, sid, self.branches.last_lived, {"patient_interrupted": True},
                                            interrupted=True)
                if retry_of(record) is not None:
                    await asyncio.to_thread(store.annotate_turn, sid, retry_of(record), rewound_mark(record.turn_index))
            except TurnConflict as exc:
                self.state = await asyncio.to_thread(store.latest_state, sid)
                self.branches = Branches.of(await asyncio.to_thread(store.turns, sid))
                raise ProtocolError("turn_conflict", f"turn {exc.existing.turn_index} was already stored from another "
                                    "connection; your state has been reloaded, send the turn again") from None
            laps.lap("commit")
            self.state = new_state
            self.branches.lived(record.turn_index)
        timings = dict(record.timings_ms)
        timings.update(commit=laps.ms["commit"], server_total=laps.total())
        events = turn_events(record, timings=timings)
        if streamed is not None:
            self._streams[record.turn_index] = streamed
            events = events[:-1]  # patient.text follows once the words are known
        return record, events

    def _begin_streamed(self, text: str, interrupted: bool):
        engine = self.services.engine
        pending = engine.begin_turn(self.state, text, interrupted=interrupted)
        planned = engine.planned_words(pending)
        streamed = StreamedReply(engine.realiser, pending, planned)
        provisional = Realisation(planned, f"{engine.realiser.name}(streaming)")
        result, new_state = engine.complete_turn(pending, provisional)
        return streamed, result, new_state

    async def reply_sentences(self, record: TurnRecord):
        """The sentences to speak for a committed turn: streamed from the model when the turn
        was committed for streaming, else the stored reply. A streamed reply is recorded, and
        `patient.text` sent, when the stream ends (spoken out, or cut by a barge-in)."""
        streamed = self._streams.pop(record.turn_index, None)
        if streamed is None:
            for sentence in split_for_speech(record.reply):
                yield sentence
            return
        try:
            async for sentence in streamed.sentences():
                yield sentence
        finally:
            await self._finish_streamed(record, streamed)

    async def _finish_streamed(self, record: TurnRecord, streamed: StreamedReply) -> None:
        out = streamed.outcome()
        # off the event loop: completing encodes the reply for the next turn's grading
        result, new_state = await asyncio.to_thread(self.services.engine.complete_turn, streamed.pending, out)
        extra = {"reply_status": "complete",
                 "realisation": realisation_extra(out.realiser, out.fallback_reason, out.rejected,
                                                  first_sentence_ms=out.timings_ms.get("first_sentence"), tokens=out.tokens)}
        sid, store, lease = record.session_id, self.services.store, self.lease
        async with self.services.live.lock(sid):
            kept = lease is not None
            if kept:
                try:
                    await asyncio.to_thread(store.finish_reply, sid, record.turn_index, reply=result.reply,
                                            realiser=result.realiser, state=new_state, extra=extra, lease=lease)
                except LeaseLost:
                    kept = False
            if not kept:  # taken over while speaking: the words were said; the state is the new driver's
                await asyncio.to_thread(store.finish_reply, sid, record.turn_index, reply=result.reply,
                                        realiser=result.realiser, state=None, extra=extra)
            elif self.state is not None and self.state.turn_index == new_state.turn_index:  # no newer turn since
                self.state = new_state
        await self.outbox.send(PatientText(turn_id=record.turn_index, text=result.reply))

    async def _end(self) -> list:
        await self.close_voice()
        store, engine = self.services.store, self.services.engine
        sid = self.session.id
        async with self._turn_hold() as hold:
            pack = engine.pack(self.session.persona_id)
            turns = await asyncio.to_thread(store.turns, sid)
            lived = lived_turns(turns)  # a taken-back turn is shown, not counted (docs/debrief.md#retried-turns)
            summary = await asyncio.to_thread(summarise, pack, self.state, [t.to_turn_result() for t in lived],
                                              self.session.opening, taken_back=len(turns) - len(lived))
            await asyncio.to_thread(store.end_session, sid, summary.model_dump(mode="json"), self.state, lease=hold.lease)
            hold.done = True  # the lease row went with the session
        self.closed = True
        return [SessionSummaryMessage(session_id=sid, summary=summary)]

    async def _retry(self, msg: TurnRetry) -> list:
        """Take back the last turn ("Try that again"): the patient is as they were before it."""
        self._rate.check()
        pack = self.services.engine.pack(self.session.persona_id)
        if not pack.allow_retry:
            raise ProtocolError("retry_not_allowed", f"the case '{pack.id}' is played straight through: its educator "
                                "switched off taking a turn back (allow_retry: false); carry on from here")
        if msg.turn_id in self._streams:
            raise ProtocolError("retry_not_ready", f"the patient is still answering turn {msg.turn_id}; wait for the "
                                "reply to finish, then try again")
        if self.voice is not None and (busy := self.voice.busy_reason()):
            raise ProtocolError("retry_not_ready", busy)
        sid = self.session.id
        async with self._turn_hold() as hold:
            try:
                state, record = await asyncio.to_thread(self.services.store.rewind_turn, sid, msg.turn_id,
                                                        lease=hold.lease)
            except RewindRefused as exc:
                code = "retry_not_ready" if exc.reason == "not_ready" else "retry_not_last"
                raise ProtocolError(code, str(exc)) from None
            hold.done = True
            self.state = state
            self.branches = Branches.of(await asyncio.to_thread(self.services.store.turns, sid))
        return [TurnRewound(turn_id=record.turn_index, state=state.emotional, previous_turn_id=self.branches.last_lived)]
