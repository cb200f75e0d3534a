"""The voice channel on scripted timelines, with no model loaded: microphone frames go in at
virtual times (tests/voice_fakes.py), and the tests check the frames that come out and the
turns committed. tests/test_voice.py is the end-to-end layer with the real models."""

from __future__ import annotations

import threading

import pytest

from server.api.outbox import CollectingOutbox
from server.api.voice import VoiceChannel
from tests.voice_fakes import AmplitudeVAD, RecordingPort, ScriptedTranscriber, SilentSynthesizer, Timeline, VirtualClock, until


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def port():
    return RecordingPort()


@pytest.fixture
async def open_channel(clock):
    """Opens channels on the virtual clock with model-free parts; closes them after the test."""
    opened = []

    def make(port, transcriber=None, **kw) -> tuple[VoiceChannel, Timeline]:
        channel = VoiceChannel(port, CollectingOutbox(), transcriber or ScriptedTranscriber(), SilentSynthesizer(),
                               vad=AmplitudeVAD(), clock=clock, **kw)
        opened.append(channel)
        return channel, Timeline(channel, clock)

    yield make
    for channel in opened:
        await channel.close()


def sent(channel, kind: str) -> list:
    return [e for e in channel.outbox.events if e.type == kind]


def types(channel) -> list[str]:
    return [e.type for e in channel.outbox.events]


def audio_s(channel) -> float:
    return sum(len(chunk) for chunk in channel.outbox.audio) / 2 / 16000


async def test_a_spoken_turn_is_committed_and_answered_in_order(port, open_channel):
    channel, mic = open_channel(port, ScriptedTranscriber("Can you tell me about the pain?"))
    await mic.speak(1000)
    await mic.pause(600)
    await until(lambda: sent(channel, "patient.audio.start"))
    await mic.wait(3000)  # the reply is paced to playback: 3 s of audio takes 2 s past the 1 s lead
    await until(lambda: sent(channel, "metrics.turn"))
    assert types(channel) == ["vad.speech_started", "vad.speech_stopped", "learner.transcript",
                              "patient.audio.start", "patient.audio.end", "metrics.turn"]
    assert [t.text for t in port.turns] == ["Can you tell me about the pain?"]
    assert audio_s(channel) == pytest.approx(3.0)
    assert not sent(channel, "patient.audio.end")[0].interrupted


async def test_barge_in_clears_the_reply_and_the_next_turn_is_marked_interrupted(port, open_channel):
    channel, mic = open_channel(port, ScriptedTranscriber("What brings you in?", "Sorry, can I stop you there?"))
    await mic.speak(1000)
    await mic.pause(600)
    await until(lambda: sent(channel, "patient.audio.start"))
    await mic.speak(400)
    assert not sent(channel, "playback.clear")  # not yet: this could still be a backchannel
    await mic.speak(400)  # past barge_in_ms (600) of speech over the patient
    assert [e.turn_id for e in sent(channel, "playback.clear")] == [1]
    assert sent(channel, "vad.speech_started")[1].during_patient
    heard = audio_s(channel)
    assert heard < 3.0
    await mic.pause(300)
    assert audio_s(channel) == heard  # nothing more of the cut reply is sent
    await mic.pause(300)
    await until(lambda: len(port.turns) == 2)
    assert (1, {"patient_interrupted": True}, True) in port.annotations
    assert [t.interrupted for t in port.turns] == [False, True]
    await until(lambda: sent(channel, "patient.audio.end"))
    assert sent(channel, "patient.audio.end")[0].interrupted


async def test_a_backchannel_over_the_patient_leaves_the_reply_playing(port, open_channel):
    channel, mic = open_channel(port)
    await mic.speak(1000)
    await mic.pause(600)
    await until(lambda: sent(channel, "patient.audio.start"))
    await mic.speak(300)  # "mm-hm"
    await mic.pause(3000)
    await until(lambda: sent(channel, "patient.audio.end"))
    assert not sent(channel, "playback.clear")
    assert len(port.turns) == 1
    assert not sent(channel, "patient.audio.end")[0].interrupted
    assert audio_s(channel) == pytest.approx(3.0)


async def test_a_pause_shorter_than_the_end_of_turn_silence_does_not_end_the_turn(port, open_channel):
    asr = ScriptedTranscriber("I was wondering", "I was wondering whether you have had any pain")
    channel, mic = open_channel(port, asr)
    await mic.speak(800)
    await mic.pause(300)  # past speculate_ms (160): ASR starts early, but under silence_ms (500)
    await mic.speak(800)
    await mic.pause(700)
    await until(lambda: port.turns)
    assert [t.text for t in port.turns] == ["I was wondering whether you have had any pain"]
    assert types(channel)[:2] == ["vad.speech_started", "vad.speech_stopped"]
    assert len(sent(channel, "vad.speech_stopped")) == 1
    voice = port.turns[0].extra["voice"]
    assert voice["audio_duration_s"] >= 1.9  # both halves and the pause between
    assert voice["speculative_asr"]
    assert len(asr.heard_s) == 2  # one early run per speech end; the turn used the second, none more


async def test_a_client_that_stops_sending_mid_turn_gets_the_turn_ended_after_the_stall_timeout(port, open_channel):
    channel, mic = open_channel(port, ScriptedTranscriber("My chest has been"))
    await mic.speak(1000)
    await mic.wait(1500)  # no frames at all, not silence frames
    assert not port.turns and not sent(channel, "error")
    await mic.wait(1000)
    await until(lambda: port.turns)
    assert [e.code for e in sent(channel, "error")] == ["audio_timeout"]
    assert port.turns[0].text == "My chest has been"
    assert port.turns[0].extra["voice"]["cut"]


async def test_a_resumed_session_carries_on_in_a_new_channel(port, open_channel, tmp_path):
    """A dropped connection's channel is closed with a speculative run still in its thread; the
    new channel on the same session commits the next turn, and no recording is overwritten."""
    first_asr = ScriptedTranscriber("Hello, I'm one of the students.", "And how")
    first, mic = open_channel(port, first_asr, audio_dir=tmp_path)
    await mic.speak(1000)
    await mic.pause(600)
    await until(lambda: port.turns)
    first_asr.gate = threading.Event()
    await mic.speak(600)
    await mic.pause(200)  # a speculative run starts and is held in its thread
    await until(lambda: first_asr.in_flight == 1)
    await first.close()
    before = list(first.outbox.events)

    second, mic = open_channel(port, ScriptedTranscriber("How are you feeling today?"), audio_dir=tmp_path)
    first_asr.gate.set()
    await until(lambda: first_asr.in_flight == 0)
    await mic.speak(1000)
    await mic.pause(600)
    await until(lambda: len(port.turns) == 2)
    assert [t.text for t in port.turns] == ["Hello, I'm one of the students.", "How are you feeling today?"]
    assert [e.turn_id for e in sent(second, "learner.transcript")] == [2]
    assert first.outbox.events == before  # the closed channel sends nothing more
    assert sorted(p.name for p in tmp_path.iterdir()) == ["turn-001.wav", "turn-002.wav"]
    assert [t.extra["voice"]["audio_file"] for t in port.turns] == [str(tmp_path / "turn-001.wav"),
                                                                     str(tmp_path / "turn-002.wav")]

