"""One spoken learner: think (the microphone streaming silence), speak a line in real time, then
wait for the reply and let it play out before the next line, as a person would; with push-to-talk,
a 600 ms tail and learner.audio.commit end the turn as the browser's button does.

Voice-to-voice at the client is from the last frame of the learner's speech sent to the first
byte of patient audio received: the endpointing wait, ASR, engine, commit and first TTS sentence
all fall inside it, as they do for a learner."""

from __future__ import annotations

import asyncio
import random
import time

from server.api.protocol import LearnerAudioCommit

from .connection import AUDIO, CLOSED, Connection, ConnectionLost
from .microphone import Microphone
from .pacing import Pacing
from .records import REPLY_TIMEOUT, SERVER_TEXT_STAGES, SERVER_VOICE_STAGES, SessionRecord, server_stages

PTT_TAIL_S = 0.6  # the browser's push-to-talk tail (web_client/js/session-talk.js)


async def run_voice_turns(conn: Connection, record: SessionRecord, lines: list[str], audio: dict[str, bytes],
                          pacing: Pacing, rng: random.Random, timeout_s: float, push_to_talk: bool = False) -> None:
    mic = Microphone(conn, handsfree=not push_to_talk).start()
    try:
        for line in lines:
            await asyncio.sleep(pacing.think_s(rng))
            _drain(conn, record)
            record.turns_attempted += 1
            speech_end = await mic.play(audio[line])
            if push_to_talk:
                await mic.silence(PTT_TAIL_S)
                await conn.send(LearnerAudioCommit(type="learner.audio.commit").model_dump_json())
            try:
                ended_at = await _one_reply(conn, record, speech_end, timeout_s)
            except TimeoutError:
                record.error(REPLY_TIMEOUT)
                return
            if ended_at is not None:  # the learner hears the reply out before speaking again
                await asyncio.sleep(max(0.0, ended_at - time.perf_counter()))
    except ConnectionLost as lost:
        record.error(lost.code)
    finally:
        await mic.stop()


async def _one_reply(conn: Connection, record: SessionRecord, speech_end: float, timeout_s: float) -> float | None:
    """Read one turn's events up to metrics.turn (the server's last for a turn); returns when
    (time.perf_counter()) the patient's audio ends playing, or None when there was no reply."""
    sample: dict[str, float] = {}
    first_audio, audio_bytes, rate = None, 0, None
    while True:
        arrival = await conn.next(timeout_s)
        if arrival.type == AUDIO:
            first_audio = first_audio or arrival.at
            audio_bytes += arrival.nbytes
        elif arrival.type == "patient.audio.start":
            rate = int(arrival.event["sample_rate"])
        elif arrival.type == "grade.turn":
            sample.update(server_stages(arrival.event.get("timings_ms") or {}, SERVER_TEXT_STAGES))
        elif arrival.type == "metrics.turn":
            sample.update(server_stages(arrival.event.get("stages_ms") or {}, SERVER_VOICE_STAGES))
            if first_audio is not None:
                sample["client.voice_to_voice"] = (first_audio - speech_end) * 1000
            record.samples.append(sample)
            break
        elif arrival.type == "vad.discarded":
            record.discarded += 1
            return None
        elif arrival.type == "error":  # counted by the connection
            return None
    if first_audio is None or not rate:
        return None
    return first_audio + audio_bytes / 2 / rate


def _drain(conn: Connection, record: SessionRecord) -> None:
    """Drop what arrived between turns; a transcript among it is a turn the server cut out of a
    line (a pause taken for its end), counted apart so the figures stay honest."""
    while not conn.queue.empty():
        arrival = conn.queue.get_nowait()
        if arrival.type == "learner.transcript":
            record.extra_turns += 1
        elif arrival.type == CLOSED:
            conn.queue.put_nowait(arrival)
            return
