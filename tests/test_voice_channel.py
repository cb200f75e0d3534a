"""The voice channel on scripted timelines, with no model loaded: microphone frames go in at
virtual times (tests/voice_fakes.py), and the tests check the frames that come out and the
turns committed. tests/test_voice.py is the end-to-end layer with the real models."""

from __future__ import annotations

import asyncio
import gc
import threading

import numpy as np
import pytest

from server.api.outbox import CollectingOutbox
from server.api.voice import VoiceChannel
from server.speech.asr.base import TranscriptionError
from server.speech.turns import Event
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


async def test_the_clip_given_to_asr_starts_before_the_speech_onset(port, open_channel):
    """A soft onset the VAD scores low ("h" of "have") and the silence before it reach
    Whisper: the clip starts pre_roll_ms (300) before the first voiced window."""
    asr = ScriptedTranscriber("Have you been sick at all?")
    channel, mic = open_channel(port, asr)
    await mic.pause(1000)
    await mic.speak(200, level=0.2)  # under start_threshold (0.5)
    await mic.speak(1000)
    await mic.pause(700)
    await until(lambda: port.turns)
    clip = asr.clips[-1]
    lead_ms = np.flatnonzero(clip > 0.5)[0] / 16
    assert 300 <= lead_ms < 300 + 2 * channel.vad.window_ms
    assert np.count_nonzero(np.isclose(clip, 0.2, atol=1e-3)) == 200 * 16  # the whole soft onset


async def test_a_short_okay_is_not_taken_for_noise_because_of_the_pre_roll(port, open_channel):
    """The share of the turn the VAD called speech, which the hallucination check reads for
    "okay", "thanks" and the like, is of the audio from the onset: the silence kept before it
    for Whisper does not count against it."""
    channel, mic = open_channel(port, ScriptedTranscriber("Okay."))
    await mic.pause(1000)
    await mic.speak(400)
    await mic.pause(700)
    await until(lambda: port.turns or sent(channel, "vad.discarded"))
    assert [t.text for t in port.turns] == ["Okay."]


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


# -- speculative ASR: a Whisper run cannot be stopped, so at most one is ever in its thread --------

async def test_a_superseded_speculative_run_is_not_joined_by_a_second_and_its_text_is_dropped(port, open_channel):
    gate = threading.Event()  # every Whisper run is slow until the test lets them finish
    asr = ScriptedTranscriber("I was wondering", "I was wondering whether you have had any pain", gate=gate)
    channel, mic = open_channel(port, asr)
    await mic.speak(800)
    await mic.pause(300)  # speculative run 1 starts and is held
    await mic.speak(800)  # speech resumes: run 1 is for a superseded speech end
    await mic.pause(700)  # run 2 is wanted for the new speech end, and the turn ends
    await until(lambda: asr.in_flight >= 1)
    await asyncio.sleep(0.05)  # real time for a second worker thread to start, if one was sent
    assert asr.in_flight == 1, "a second Whisper run started next to a superseded one"
    assert not port.turns
    gate.set()
    await until(lambda: port.turns)
    assert asr.max_in_flight == 1  # run 2 waited for run 1's thread instead of competing with it
    assert [t.text for t in port.turns] == ["I was wondering whether you have had any pain"]
    assert len(asr.heard_s) == 2 and asr.heard_s[1] > asr.heard_s[0] + 1.0


async def test_a_speculative_run_superseded_while_it_waits_never_starts(port, open_channel):
    gate = threading.Event()
    asr = ScriptedTranscriber("I was", "I was wondering whether", gate=gate)
    channel, mic = open_channel(port, asr)
    for _ in range(2):  # run 1 starts and is held; run 2 queues behind it
        await mic.speak(600)
        await mic.pause(300)
    await mic.speak(300)  # speech resumes: run 2 is superseded while it waits
    gate.set()  # run 1 ends while the learner is still talking
    await until(lambda: asr.in_flight == 0)
    await mic.speak(300)
    await mic.pause(700)  # run 3, and the turn ends on its speech end
    await until(lambda: port.turns)
    assert len(asr.heard_s) == 2 and asr.max_in_flight == 1  # run 1 and run 3; run 2 never started
    assert port.turns[0].text == "I was wondering whether"
    assert asr.heard_s[1] > 3 * asr.heard_s[0]  # run 3 heard all three stretches of speech


async def test_closing_the_channel_drops_speculative_work(port, open_channel):
    gate = threading.Event()
    asr = ScriptedTranscriber("I was", gate=gate)
    channel, mic = open_channel(port, asr)
    for _ in range(2):  # run 1 is held in its thread, run 2 waits behind it
        await mic.speak(600)
        await mic.pause(300)
    await until(lambda: asr.in_flight >= 1)
    await channel.close()
    gate.set()
    await until(lambda: asr.in_flight == 0)
    await mic.wait(100)
    assert len(asr.heard_s) == 1  # what waited never starts once the channel is gone
    assert not port.turns


async def test_a_barge_in_drops_early_asr(port, open_channel):
    """Fed at the detector's level: whatever early run is pending when the learner barges in is
    for speech that is not over, so its text is never used."""
    gate = threading.Event()
    asr = ScriptedTranscriber("dropped early text", "I need to stop you there", gate=gate)
    channel, mic = open_channel(port, asr)
    await mic.speak(1000)  # the VAD hears speech (a turn of none is dropped as Whisper's invention)
    audio = np.zeros(16000, np.float32)
    await channel.on_event(Event("tentative", 0.0, audio=audio, speech_end_ms=5.0))
    await until(lambda: asr.in_flight == 1)
    await channel.on_event(Event("barge_in", 0.0, during_patient=True))
    await channel.on_event(Event("turn", 0.0, audio=audio, speech_end_ms=5.0))
    gate.set()
    await until(lambda: port.turns)
    assert port.turns[0].text == "I need to stop you there"
    assert not port.turns[0].extra["voice"]["speculative_asr"]
    assert asr.max_in_flight == 1



async def test_an_early_run_that_fails_after_it_was_dropped_is_nobodys_error(port, open_channel, caplog):
    """Whisper failing on speech the learner then went on from does not fail the turn, and
    asyncio has no unread exception to log about it."""

    class FailsFirst(ScriptedTranscriber):
        def transcribe(self, audio, language=None):
            if not self.heard_s:
                self.heard_s.append(len(audio) / 16000)
                assert self.gate.wait(5)
                raise TranscriptionError("the remote ASR timed out")
            return super().transcribe(audio, language)

    gate = threading.Event()
    asr = FailsFirst("I was wondering whether you have had any pain", gate=gate)
    channel, mic = open_channel(port, asr)
    await mic.speak(800)
    await mic.pause(300)  # run 1 starts and is held
    await mic.speak(800)  # and is dropped in its thread
    await mic.pause(700)
    gate.set()  # run 1 fails, then run 2 transcribes the turn
    await until(lambda: port.turns)
    gc.collect()
    assert port.turns[0].text == "I was wondering whether you have had any pain"
    assert "never retrieved" not in caplog.text
