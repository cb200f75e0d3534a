"""Voice sessions over a live uvicorn websocket with the real models: Silero VAD,
faster-whisper base, the engine and pyttsx3/espeak-ng. Learner audio is synthesised
with espeak-ng at test time, so nothing is downloaded."""

from __future__ import annotations

import asyncio
import json
import wave
from pathlib import Path

import pytest
import websockets

from tests.voice_audio import pcm16, silence, speech, stream, white_noise

pytestmark = pytest.mark.slow


class VoiceClient:
    """Collects JSON events and patient audio from one voice session."""

    def __init__(self, ws):
        self.ws = ws
        self.events: list[dict] = []
        self.audio: dict[int, bytearray] = {}
        self._current: int | None = None
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, persona: str = "chest-pain-anxiety", mode: str = "voice") -> "VoiceClient":
        ws = await websockets.connect(url, max_size=None)
        client = cls(ws)
        await ws.send(json.dumps({"type": "session.start", "persona_id": persona, "learner_id": "voice-test", "mode": mode}))
        await client.wait_for("session.started")
        return client

    @classmethod
    async def resume(cls, url: str, session_id: str, token: str) -> "VoiceClient":
        """A new connection that takes the session up again, as a client does after a drop."""
        client = cls(await websockets.connect(url, max_size=None))
        await client.send(json.dumps({"type": "session.resume", "session_id": session_id, "token": token}))
        await client.wait_for("session.started", resumed=True)
        return client

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                if isinstance(msg, bytes):
                    self.audio.setdefault(self._current, bytearray()).extend(msg)
                    continue
                ev = json.loads(msg)
                if ev["type"] == "patient.audio.start":
                    self._current = ev["turn_id"]
                self.events.append(ev)
        except websockets.ConnectionClosed:
            pass

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["type"] == kind]

    async def wait_for(self, kind: str, timeout: float = 60.0, count: int = 1, **match) -> dict:
        async def poll():
            while True:
                found = [e for e in self.of(kind) if all(e.get(k) == v for k, v in match.items())]
                if len(found) >= count:
                    return found[count - 1]
                await asyncio.sleep(0.02)
        return await asyncio.wait_for(poll(), timeout)

    async def send(self, data) -> None:
        await self.ws.send(data)

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


@pytest.fixture
async def voice(live_server):
    client = await VoiceClient.open(live_server.ws_url)
    yield client
    await client.close()


async def test_spoken_turn_round_trip(voice, live_server):
    started = voice.of("session.started")[0]
    assert started["state"]["trust"] > 0
    await stream(voice.send, silence(0.3))
    await stream(voice.send, speech("When did the chest pain start?"))
    await stream(voice.send, silence(1.0))
    transcript = await voice.wait_for("learner.transcript")
    words = transcript["text"].lower()
    assert "chest" in words and "start" in words
    text = await voice.wait_for("patient.text", turn_id=transcript["turn_id"])
    start = await voice.wait_for("patient.audio.start", turn_id=transcript["turn_id"])
    end = await voice.wait_for("patient.audio.end", turn_id=transcript["turn_id"])
    metrics = await voice.wait_for("metrics.turn", turn_id=transcript["turn_id"])
    assert [e["type"] for e in voice.events if e["type"] in ("vad.speech_started", "vad.speech_stopped")][:2] == [
        "vad.speech_started", "vad.speech_stopped"]
    assert end["interrupted"] is False
    # patient audio of plausible length for the reply: 0.15-0.8 s per word at the TTS rate
    seconds = len(voice.audio[transcript["turn_id"]]) / 2 / start["sample_rate"]
    n_words = len(text["text"].split())
    assert 0.15 * n_words <= seconds <= 0.8 * n_words + 1.0, (seconds, text["text"])
    stages = metrics["stages_ms"]
    assert stages["voice_to_voice_ms"] > stages["asr_ms"] > 0
    # the default (semantic) detector ends a turn between its first check (160 ms) and the longest pause (2 s)
    assert 150 <= stages["speech_end_to_endpoint_ms"] <= 2300
    # the stored transcript row records the voice details
    await asyncio.sleep(0.5)
    started = voice.of("session.started")[0]
    import httpx
    detail = httpx.get(f"{live_server.url}/api/sessions/{started['session_id']}",
                       headers={"Authorization": f"Bearer {started['token']}"}, timeout=30).json()
    row = detail["turns"][0]["voice"]
    assert row["asr_backend"] == "faster-whisper" and "whisper-base" in row["asr_model"]
    assert 1.0 < row["audio_duration_s"] < 5.0 and 0.0 <= row["no_speech_prob"] < 0.5
    t = row["timings_ms"]
    assert t["speech_end"] == 0 < t["transcript_ready"] <= t["reply_text_ready"] <= t["first_audio_sent"]


async def test_barge_in_clears_playback_and_marks_the_turn(voice, live_server):
    await stream(voice.send, speech("What brings you in today? Tell me everything."))
    await stream(voice.send, silence(0.8))
    first = await voice.wait_for("patient.audio.start")
    # talk over the patient for well over the barge-in threshold
    await stream(voice.send, speech("Sorry, can I stop you there for a moment, please?"))
    clear = await voice.wait_for("playback.clear", timeout=30)
    assert clear["turn_id"] == first["turn_id"]
    end = await voice.wait_for("patient.audio.end", turn_id=first["turn_id"])
    assert end["interrupted"] is True
    await stream(voice.send, silence(0.8))
    second = await voice.wait_for("grade.turn", count=2)
    assert "interrupted" in second["grade"]["flags"]
    # the transcript marks the patient's turn as interrupted
    started = voice.of("session.started")[0]
    import httpx
    detail = httpx.get(f"{live_server.url}/api/sessions/{started['session_id']}",
                       headers={"Authorization": f"Bearer {started['token']}"}, timeout=30).json()
    turns = {t["turn_id"]: t for t in detail["turns"]}
    assert turns[first["turn_id"]]["interrupted"] is True


async def test_backchannel_does_not_cancel_the_reply(voice):
    await stream(voice.send, speech("What brings you in today? Tell me everything."))
    await stream(voice.send, silence(0.8))
    first = await voice.wait_for("patient.audio.start")
    await asyncio.sleep(0.3)
    await stream(voice.send, speech("Mm.", speed=200))
    await stream(voice.send, silence(1.2))
    end = await voice.wait_for("patient.audio.end", turn_id=first["turn_id"])
    assert end["interrupted"] is False
    assert voice.of("playback.clear") == []
    assert len(voice.of("learner.transcript")) == 1


async def test_silence_and_noise_never_become_turns(voice):
    await stream(voice.send, silence(2.0), realtime=False)
    await stream(voice.send, white_noise(3.0), realtime=False)
    await stream(voice.send, silence(1.0), realtime=False)
    await asyncio.sleep(4.0)
    assert voice.of("learner.transcript") == [] and voice.of("grade.turn") == []


async def test_client_stalling_mid_turn_ends_the_turn(voice):
    await stream(voice.send, speech("I wanted to ask about your chest pain"))
    err = await voice.wait_for("error", timeout=15)
    assert err["code"] == "audio_timeout"
    transcript = await voice.wait_for("learner.transcript", timeout=60)
    assert "chest" in transcript["text"].lower()


async def test_over_long_speech_is_cut_with_a_message(voice):
    sentence = speech("Tell me about the pain in your chest and how it has been affecting your work and your family")
    long_speech = __import__("numpy").concatenate([sentence] * (int(61 / (len(sentence) / 16000)) + 1))
    await stream(voice.send, long_speech, realtime=False)
    err = await voice.wait_for("error", timeout=60)
    assert err["code"] == "turn_too_long" and "60 s" in err["message"]
    await voice.wait_for("learner.transcript", timeout=120)


@pytest.mark.parametrize("payload,code", [
    (b"\x00" * 641, "bad_audio"),
    (b"\x00" * (64 * 1024 + 2), "audio_frame_too_large"),
])
async def test_malformed_audio_frames_get_errors_and_the_session_survives(voice, payload, code):
    await voice.send(payload)
    err = await voice.wait_for("error")
    assert err["code"] == code and err["message"]
    await voice.send(json.dumps({"type": "learner.text", "text": "How are you feeling today?"}))
    await voice.wait_for("patient.text")


async def test_audio_before_start_and_in_text_mode(live_server):
    async with websockets.connect(live_server.ws_url) as ws:
        await ws.send(pcm16(silence(0.02)))
        err = json.loads(await ws.recv())
        assert err["type"] == "error" and err["code"] == "no_session"
        await ws.send(json.dumps({"type": "session.start", "persona_id": "chest-pain-anxiety", "learner_id": "t", "mode": "text"}))
        assert json.loads(await ws.recv())["type"] == "session.started"
        await ws.send(pcm16(silence(0.02)))
        err = json.loads(await ws.recv())
        assert err["code"] == "audio_in_text_mode"
        await ws.send(json.dumps({"type": "learner.audio.commit"}))
        err = json.loads(await ws.recv())
        assert err["code"] == "audio_in_text_mode" and "learner.audio.commit" in err["message"]
        await ws.send(json.dumps({"type": "learner.text", "text": "Hello"}))
        kinds = [json.loads(await ws.recv())["type"] for _ in range(3)]
        assert kinds == ["grade.turn", "state.update", "patient.text"]


@pytest.fixture(scope="module")
def audio_server(persona_dir, tmp_path_factory):
    """A second server with --store-audio and the silence detector's endpoint at 900 ms."""
    from server.api.launch import ServerProcess

    with ServerProcess(tmp_path_factory.mktemp("audio-data"), persona_dir,
                       extra_args=["--store-audio", "--turn-detector", "silence", "--vad-silence-ms", "900"]) as server:
        yield server


async def spoken_turn(client: VoiceClient, text: str) -> dict:
    """Say `text`, then the end-of-turn silence; the turn's metrics once it is done."""
    done = len(client.of("metrics.turn"))
    await stream(client.send, speech(text))
    await stream(client.send, silence(1.4))
    return await client.wait_for("metrics.turn", count=done + 1)


async def test_raw_audio_is_kept_only_with_the_flag_and_endpointing_is_configurable(audio_server):
    """The default server keeps no audio (test_default_server_keeps_no_audio)."""
    client = await VoiceClient.open(audio_server.ws_url)
    try:
        metrics = await spoken_turn(client, "Do you have any allergies?")
        assert 900 <= metrics["stages_ms"]["speech_end_to_endpoint_ms"] < 1300
    finally:
        await client.close()
    sid = client.of("session.started")[0]["session_id"]
    files = sorted((audio_server.data_dir / "audio" / sid).glob("*.wav"))
    assert len(files) == 1 and files[0].stat().st_size > 16000


async def test_a_resumed_session_keeps_every_recording(audio_server):
    """The resumed connection's first spoken turn is a new file: the earlier turn's recording keeps
    its bytes, and each stored turn names its own file (nothing logged is ever lost)."""
    from server.store.sql import open_store

    first = await VoiceClient.open(audio_server.ws_url)
    try:
        await spoken_turn(first, "Do you have any allergies?")
    finally:
        await first.close()
    started = first.of("session.started")[0]
    sid = started["session_id"]
    folder = audio_server.data_dir / "audio" / sid
    [earlier] = folder.glob("*.wav")
    kept = earlier.read_bytes()

    resumed = await VoiceClient.resume(audio_server.ws_url, sid, started["token"])
    try:
        await spoken_turn(resumed, "When did the chest pain start?")
    finally:
        await resumed.close()

    store = open_store(f"sqlite:///{audio_server.data_dir / 'bedside.db'}")
    try:
        turns = store.turns(sid)
    finally:
        store.close()
    files = [Path(t.extra["voice"]["audio_file"]) for t in turns]
    assert [t.turn_index for t in turns] == [1, 2] and files[0] == earlier and files[1] != earlier
    assert sorted(folder.glob("*.wav")) == sorted(files)
    assert earlier.read_bytes() == kept
    for turn, path in zip(turns, files):  # each file holds its own turn's audio
        with wave.open(str(path)) as w:
            assert w.getnframes() / w.getframerate() == pytest.approx(turn.extra["voice"]["audio_duration_s"], abs=1e-3)


def test_default_server_keeps_no_audio(live_server):
    assert not (live_server.data_dir / "audio").exists()


async def test_model_realiser_reply_is_spoken_as_it_is_generated(persona_dir, tmp_path, settings):
    """The bundled SmolLM2 words the reply; its checked sentences are synthesised as they come, and
    the transcript stores the words actually spoken (tests/test_streamed_reply.py has the details)."""
    from server.api.launch import ServerProcess
    from server.realise.model_cache import prepare_dialogue_model
    from server.store.sql import open_store

    prepare_dialogue_model(settings.models_dir, model="")  # the cached safetensors copy (fast after set-up)
    data = tmp_path / "data"
    with ServerProcess(data, persona_dir, extra_args=["--realiser", "transformers"],
                       env={"BEDSIDE_MODELS_DIR": str(settings.models_dir)}) as server:
        client = await VoiceClient.open(server.ws_url)
        try:
            await stream(client.send, speech("When did the chest pain start?"))
            await stream(client.send, silence(1.0))
            grade = await client.wait_for("grade.turn", timeout=60)
            text = await client.wait_for("patient.text", turn_id=grade["turn_id"], timeout=90)
            metrics = await client.wait_for("metrics.turn", turn_id=grade["turn_id"], timeout=30)
        finally:
            await client.close()
    kinds = [e["type"] for e in client.events]
    # grade and state first, then audio, and the words once the stream has ended
    assert kinds.index("grade.turn") < kinds.index("patient.audio.start") < kinds.index("patient.text")
    assert metrics["stages_ms"]["first_sentence_ms"] is not None and metrics["stages_ms"]["voice_to_voice_ms"] > 0
    store = open_store(f"sqlite:///{data / 'bedside.db'}")
    try:
        sid = client.of("session.started")[0]["session_id"]
        row = store.turns(sid)[0]
    finally:
        store.close()
    assert row.reply == text["text"] and row.extra["reply_status"] == "complete"
    # the provisional "(streaming)" label is gone, and the row says how the words were chosen
    assert row.extra["realisation"]["realiser"] == row.realiser != "transformers(streaming)"
    assert (row.fallback_reason is None) == (row.realiser == "transformers")
    if row.realiser == "template(fallback:transformers)":
        assert row.rejected_reply is not None or row.fallback_reason.startswith("transformers unavailable")


@pytest.fixture(scope="module")
def semantic_server(persona_dir, tmp_path_factory):
    """A server whose spoken turns end when the end-of-turn model says the learner has finished."""
    from server.api.launch import ServerProcess

    with ServerProcess(tmp_path_factory.mktemp("semantic-data"), persona_dir,
                       extra_args=["--turn-detector", "semantic"], env={"BEDSIDE_AUDIO_MAX_SPEED": "0"}) as server:
        yield server


async def test_a_one_second_pause_mid_sentence_is_one_turn_with_the_semantic_detector(semantic_server):
    """Issue 18's check: a sentence with a 1 s pause at a hesitation point is one learner turn."""
    client = await VoiceClient.open(semantic_server.ws_url)
    try:
        await stream(client.send, silence(0.3))
        await stream(client.send, speech("I was wondering"))
        await stream(client.send, silence(1.0))
        await stream(client.send, speech("whether you have had any pain in your arm"))
        await stream(client.send, silence(2.5))
        transcript = await client.wait_for("learner.transcript")
        await asyncio.sleep(1.0)
        assert len(client.of("learner.transcript")) == 1, [e["text"] for e in client.of("learner.transcript")]
        words = transcript["text"].lower()
        assert "wondering" in words and "arm" in words, words
        # push-to-talk: a release ends the turn at once, though "I was wondering" is unfinished
        await stream(client.send, speech("I was wondering"))
        await stream(client.send, silence(0.6))
        await client.send(json.dumps({"type": "learner.audio.commit"}))
        second = await client.wait_for("learner.transcript", count=2, timeout=10)
        assert "wondering" in second["text"].lower()
    finally:
        await client.close()
