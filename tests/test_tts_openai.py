"""tts_backend "openai" (server/speech/tts/openai_api_backend.py) against a stand-in speech server:
a small FastAPI app on a real port that answers POST /v1/audio/speech the way OpenAI-compatible
servers do, with a tone as long as the text, so the client's request, WAV reading, speed and
failure handling are checked without a TTS model."""

from __future__ import annotations

import logging
import socket
import struct

import numpy as np
import pytest
from fastapi import Request  # module level: the stand-in's handler annotation must resolve here

from server.config import Settings
from server.core.types import EmotionalState
from server.persona.schema import Voice
from server.speech.tts.base import TTSUnavailable
from server.speech.tts.factory import build_synthesizer, loaded_synthesizer
from server.speech.tts.openai_api_backend import OpenAISpeechClient, SpeechServerError, speed_for, wav_to_pcm16
from tests.thread_server import AppThread

VOICE = Voice(espeak_voice="en-us", rate_wpm=160, pitch=50)
RATE = 24000
SECONDS_PER_CHAR = 0.02


def tone(seconds: float, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    return np.repeat(x[:, None], channels, axis=1)


def wav(x: np.ndarray, fmt: str = "pcm16", streamed: bool = False) -> bytes:
    """A WAV file written by hand: 16-bit PCM, 32-bit float or WAVE_FORMAT_EXTENSIBLE (16-bit), with a
    LIST chunk before the data as some writers add, and, when streamed, the unknown-length sizes."""
    channels = x.shape[1]
    if fmt == "float32":
        data, tag, bits = x.astype("<f4").tobytes(), 3, 32
    else:
        data, tag, bits = (x * 32767).astype("<i2").tobytes(), (0xFFFE if fmt == "extensible" else 1), 16
    block = channels * bits // 8
    fmt_body = struct.pack("<HHIIHH", tag, channels, RATE, RATE * block, block, bits)
    if tag == 0xFFFE:
        fmt_body += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", 1) + bytes(14)  # sub-format: PCM
    info = b"INFOISFT" + struct.pack("<I", 5) + b"test\x00" + b"\x00"  # odd-sized: padded to even
    chunks = (b"fmt " + struct.pack("<I", len(fmt_body)) + fmt_body
              + b"LIST" + struct.pack("<I", len(info) - 1) + info
              + b"data" + struct.pack("<I", 0xFFFFFFFF if streamed else len(data)) + data)
    size = 0xFFFFFFFF if streamed else 4 + len(chunks)
    return b"RIFF" + struct.pack("<I", size) + b"WAVE" + chunks


def stand_in(fmt: str = "pcm16", channels: int = 1, streamed: bool = False, status: int = 200, body: bytes | None = None):
    """An OpenAI-style speech endpoint; it keeps every request it was sent in `app.state.seen`."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, Response

    app = FastAPI()
    app.state.seen = []

    @app.post("/v1/audio/speech")
    async def speech(request: Request):
        payload = await request.json()
        app.state.seen.append({"json": payload, "auth": request.headers.get("authorization")})
        if status != 200:
            return JSONResponse({"error": {"message": "model not loaded"}}, status_code=status)
        if body is not None:
            return Response(body, media_type="audio/mpeg")
        seconds = len(payload["input"]) * SECONDS_PER_CHAR / payload.get("speed", 1.0)
        return Response(wav(tone(seconds, channels), fmt, streamed), media_type="audio/wav")

    return app


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the WAV reader ------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["pcm16", "float32", "extensible"])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("streamed", [False, True])
def test_wav_reader_gives_mono_16_bit_pcm(fmt, channels, streamed):
    x = tone(0.5, channels)
    pcm, rate = wav_to_pcm16(wav(x, fmt, streamed))
    back = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32767
    assert rate == RATE and len(back) == len(x)
    assert np.max(np.abs(back - x[:, 0])) < 2e-3


@pytest.mark.parametrize("body,message", [
    (b"ID3\x04\x00 an mp3 file", "not a WAV file"),
    (b"RIFF\x04\x00\x00\x00WAVE", "no audio data"),
    (b"RIFF\x10\x00\x00\x00WAVEdata\x04\x00\x00\x00\x00\x00\x00\x00", "data before its format"),
])
def test_wav_reader_names_what_is_wrong(body, message):
    with pytest.raises(SpeechServerError, match=message):
        wav_to_pcm16(body)


def test_speed_follows_the_persona_rate_within_the_api_range():
    assert speed_for(160) == 1.0 and speed_for(200) == 1.25
    assert speed_for(10) == 0.25 and speed_for(2000) == 4.0


# --- the client against the stand-in server --------------------------------------------------

@pytest.mark.parametrize("fmt,channels,streamed", [("pcm16", 1, False), ("float32", 2, True)])
def test_client_speaks_a_sentence(fmt, channels, streamed):
    app = stand_in(fmt, channels, streamed)
    with AppThread(app) as srv:
        client = OpenAISpeechClient(srv.url + "/v1", api_key="test-key", model="kokoro", voice="af_heart")
        assert client.sample_rate is None  # known from the first reply
        text = "I have had this pain since yesterday."
        audio = client.synthesize(text, VOICE)
        client.close()
    assert audio.sample_rate == client.sample_rate == RATE
    assert audio.duration_s == pytest.approx(len(text) * SECONDS_PER_CHAR, abs=0.01)
    sent = app.state.seen[0]
    assert sent["auth"] == "Bearer test-key"
    assert sent["json"] == {"model": "kokoro", "input": text, "voice": "af_heart", "response_format": "wav",
                            "speed": 1.0}


def test_the_emotional_state_sets_speed_and_loudness():
    app = stand_in()
    with AppThread(app) as srv:
        client = OpenAISpeechClient(srv.url, model="m", voice="v")
        text = "It is my heart, isn't it?"
        sad = client.synthesize(text, VOICE, EmotionalState(trust=0.5, distress=0.2, emotion="sadness"))
        angry = client.synthesize(text, VOICE, EmotionalState(trust=0.5, distress=0.8, emotion="anger"))
        client.close()
    slow, fast = (s["json"]["speed"] for s in app.state.seen)
    assert slow < 1.0 < fast and sad.duration_s > angry.duration_s

    def peak(a):
        return int(np.max(np.abs(np.frombuffer(a.pcm16, dtype="<i2"))))

    assert peak(angry) > peak(sad)


def test_sentences_are_asked_for_one_at_a_time_and_blank_text_is_not_sent():
    app = stand_in()
    with AppThread(app) as srv:
        client = OpenAISpeechClient(srv.url, model="m", voice="v")
        parts = list(client.synthesize_sentences("It started yesterday. It is worse today!", VOICE))
        assert client.synthesize("   ", VOICE).pcm16 == b""
        client.close()
    assert len(parts) == 2 and [s["json"]["input"] for s in app.state.seen] == ["It started yesterday.",
                                                                                "It is worse today!"]


@pytest.mark.parametrize("server,logged", [
    ("closed", "cannot reach it"),
    (500, "answered 500"),
    ("mp3", "not a WAV file"),
])
def test_a_sentence_the_server_cannot_speak_is_silence_and_a_logged_error(server, logged, caplog):
    """The words are on the learner's screen already: the turn goes on without sound for that sentence."""
    caplog.set_level(logging.ERROR, logger="server.speech.tts.openai_api_backend")
    if server == "closed":
        client = OpenAISpeechClient(f"http://127.0.0.1:{closed_port()}", timeout_s=2, connect_timeout_s=1)
        audio = client.synthesize("Hello doctor.", VOICE)
    else:
        app = stand_in(status=server) if server == 500 else stand_in(body=b"ID3\x04 not wav")
        with AppThread(app) as srv:
            client = OpenAISpeechClient(srv.url)
            audio = client.synthesize("Hello doctor.", VOICE)
    client.close()
    assert audio.pcm16 == b"" and not audio
    assert any(logged in r.getMessage() and "shown but not spoken" in r.getMessage() for r in caplog.records)


def test_settings_choose_the_speech_server_model_and_voice(tmp_path):
    app = stand_in()
    with AppThread(app) as srv:
        s = Settings(data_dir=tmp_path, tts_backend="openai", openai_base_url="http://judge.invalid/v1",
                     tts_openai_base_url=srv.url + "/v1", tts_openai_model="hexgrad/Kokoro-82M",
                     tts_openai_voice="bm_george", openai_api_key="shared-key")
        assert loaded_synthesizer(s) is None  # the readiness probe never builds one
        synth = build_synthesizer(s)
        assert isinstance(synth, OpenAISpeechClient) and loaded_synthesizer(s) is synth
        assert build_synthesizer(s) is synth
        assert synth.synthesize("Thank you.", VOICE)
    sent = app.state.seen[0]
    assert sent["json"]["model"] == "hexgrad/Kokoro-82M" and sent["json"]["voice"] == "bm_george"
    assert sent["auth"] == "Bearer shared-key"  # tts_openai_api_key falls back to openai_api_key


def test_no_speech_server_says_which_setting_to_set(tmp_path):
    with pytest.raises(TTSUnavailable, match="BEDSIDE_TTS_OPENAI_BASE_URL"):
        build_synthesizer(Settings(data_dir=tmp_path, tts_backend="openai"))
