"""The semantic turn detector on scripted timelines, with no model loaded: the early
transcript is judged, a finished turn ends before the silence rule would end it, and a pause
mid-sentence keeps listening up to the longest pause (issue 18)."""

from __future__ import annotations

import threading

import pytest

from server.api.outbox import CollectingOutbox
from server.api.voice import VoiceChannel
from server.speech.end_of_turn.policy import EndOfTurnPolicy
from tests.voice_fakes import AmplitudeVAD, RecordingPort, ScriptedTranscriber, SilentSynthesizer, Timeline, VirtualClock, until


class ScriptedJudge:
    """The end-of-turn model's place: P(complete) looked up by transcript (0.5 when unknown)."""

    version = "scripted"

    def __init__(self, **p: float) -> None:
        self.p = {k.replace("_", " "): v for k, v in p.items()}
        self.read: list[str] = []

    def probability_complete(self, text: str) -> float:
        self.read.append(text)
        return self.p.get(text, 0.5)


class ScriptedAcoustic:
    """The acoustic judge's place: one P(complete) for any audio, and the clip lengths it heard."""

    version = "scripted-acoustic"

    def __init__(self, p: float, fail: bool = False) -> None:
        self.p, self.fail = p, fail
        self.heard: list[int] = []

    def probability_complete_audio(self, audio) -> float:
        self.heard.append(len(audio))
        if self.fail:
            raise RuntimeError("onnxruntime fell over")
        return self.p


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
async def semantic_channel(clock):
    opened = []

    def make(transcriber, judge, mode="semantic", acoustic=None, policy=None) -> tuple[VoiceChannel, Timeline, RecordingPort]:
        port = RecordingPort()
        channel = VoiceChannel(port, CollectingOutbox(), transcriber, SilentSynthesizer(), vad=AmplitudeVAD(), clock=clock,
                               end_of_turn=policy or EndOfTurnPolicy(mode=mode), judge=judge, acoustic=acoustic)
        opened.append(channel)
        return channel, Timeline(channel, clock), port

    yield make
    for channel in opened:
        await channel.close()


async def speak_then_pause_until_judged(mic: Timeline, judge: ScriptedJudge, ms: float) -> None:
    """Speech, then 200 ms of silence: early ASR has started and the judge has read it."""
    await mic.speak(ms)
    await mic.pause(200)
    await until(lambda: judge.read)


def stopped(channel) -> int:
    return sum(e.type == "vad.speech_stopped" for e in channel.outbox.events)


async def test_a_pause_mid_sentence_is_not_an_end_of_turn(semantic_channel):
    judge = ScriptedJudge(I_was_wondering=0.05, I_was_wondering_whether_you_have_had_any_pain=0.9)
    channel, mic, port = semantic_channel(ScriptedTranscriber("I was wondering", "I was wondering whether you have had any pain"), judge)
    await mic.speak(800)
    await mic.pause(200)
    await until(lambda: judge.read)  # the early transcript was judged unfinished ...
    await mic.pause(1000)  # ... so a 1.2 s pause, over twice the silence rule's 500 ms, does not end the turn
    assert not port.turns and stopped(channel) == 0
    await mic.speak(800)
    await mic.pause(200)
    await until(lambda: port.turns)
    assert [t.text for t in port.turns] == ["I was wondering whether you have had any pain"]
    assert port.turns[0].extra["voice"]["end_of_turn"] == {"detector": "semantic", "reason": "complete", "p_complete": 0.9,
                                                             "p_text": 0.9}


async def test_a_finished_question_ends_before_the_silence_rule(semantic_channel):
    judge = ScriptedJudge(**{"Is there anything that makes it better?": 0.95})
    channel, mic, port = semantic_channel(ScriptedTranscriber("Is there anything that makes it better?"), judge)
    await mic.speak(1200)
    await mic.pause(200)
    await until(lambda: port.turns)  # ended at about 200 ms of silence, not 500
    assert port.turns[0].extra["voice"]["end_of_turn"]["reason"] == "complete"
    assert stopped(channel) == 1


async def test_without_a_judgement_yet_the_silence_rule_ends_the_turn(semantic_channel):
    gate = threading.Event()  # the early transcript is slow: nothing to judge
    judge = ScriptedJudge()
    channel, mic, port = semantic_channel(ScriptedTranscriber("Any allergies?", gate=gate), judge)
    await mic.speak(800)
    await mic.pause(540)
    assert stopped(channel) == 1 and not judge.read
    gate.set()
    await until(lambda: port.turns)
    assert port.turns[0].extra["voice"]["end_of_turn"] == {"detector": "semantic", "reason": "silence", "p_complete": None}


async def test_an_unfinished_turn_still_ends_at_the_longest_pause(semantic_channel):
    judge = ScriptedJudge(so_um=0.02)
    channel, mic, port = semantic_channel(ScriptedTranscriber("so um"), judge)
    await speak_then_pause_until_judged(mic, judge, 800)
    await mic.pause(1700)
    assert stopped(channel) == 0
    await mic.pause(200)  # past 2000 ms of silence
    await until(lambda: port.turns)
    assert port.turns[0].extra["voice"]["end_of_turn"]["reason"] in ("max_silence", "silence_limit")


async def test_the_silence_detector_ignores_any_judge(semantic_channel):
    judge = ScriptedJudge(I_was_wondering=0.05)
    channel, mic, port = semantic_channel(ScriptedTranscriber("I was wondering"), judge, mode="silence")
    await mic.speak(800)
    await mic.pause(540)
    await until(lambda: port.turns)
    assert not judge.read
    assert port.turns[0].extra["voice"]["end_of_turn"] == {"detector": "silence", "reason": "silence_limit"}


async def test_a_push_to_talk_release_ends_the_turn_whatever_the_judge_says(semantic_channel):
    judge = ScriptedJudge(That_sounds_really_hard=0.3)
    channel, mic, port = semantic_channel(ScriptedTranscriber("That sounds really hard"), judge)
    await speak_then_pause_until_judged(mic, judge, 900)
    assert stopped(channel) == 0  # judged unfinished: still listening
    await channel.commit_turn()
    await until(lambda: port.turns)
    assert port.turns[0].text == "That sounds really hard"
    assert port.turns[0].extra["voice"]["end_of_turn"]["reason"] == "push_to_talk_released"
    await channel.commit_turn()  # outside a turn: nothing
    await mic.pause(100)
    assert len(port.turns) == 1 and stopped(channel) == 1


async def test_a_pause_taken_for_thinking_is_announced_and_so_is_going_on(semantic_channel):
    judge = ScriptedJudge(I_was_wondering=0.05, I_was_wondering_whether_it_hurts=0.9)
    channel, mic, port = semantic_channel(ScriptedTranscriber("I was wondering", "I was wondering whether it hurts"), judge)
    await speak_then_pause_until_judged(mic, judge, 800)
    await mic.pause(400)  # past the silence rule's 500 ms
    pauses = [e.waiting for e in channel.outbox.events if e.type == "vad.pause"]
    assert pauses == [True]
    await mic.speak(600)
    await mic.pause(200)
    await until(lambda: port.turns)
    assert [e.waiting for e in channel.outbox.events if e.type == "vad.pause"] == [True, False]
    kinds = [e.type for e in channel.outbox.events if e.type.startswith("vad.")]
    assert kinds == ["vad.speech_started", "vad.pause", "vad.pause", "vad.speech_stopped"]


async def test_with_an_acoustic_judge_the_turn_waits_for_both_and_weighs_them(semantic_channel):
    judge = ScriptedJudge(**{"Is there anything that makes it better?": 0.9})
    acoustic = ScriptedAcoustic(0.0)  # the voice says "not done": the mean, 0.45, is under 0.5
    policy = EndOfTurnPolicy(text_weight=0.5, threshold=0.5, threshold_at_max=0.5)
    channel, mic, port = semantic_channel(ScriptedTranscriber("Is there anything that makes it better?"), judge,
                                          acoustic=acoustic, policy=policy)
    await speak_then_pause_until_judged(mic, judge, 1200)
    await mic.pause(600)
    assert not port.turns and stopped(channel) == 0  # without the acoustic judge it would have ended at ~200 ms
    assert acoustic.heard and acoustic.heard[0] >= 16 * 1200  # it heard the whole utterance so far
    await mic.pause(1300)
    await until(lambda: port.turns)
    ended = port.turns[0].extra["voice"]["end_of_turn"]
    assert ended["reason"] in ("max_silence", "silence_limit")  # the longest pause ended it
    assert ended["p_text"] == 0.9 and ended["p_acoustic"] == 0.0


async def test_an_acoustic_judge_that_agrees_ends_the_turn_at_once(semantic_channel):
    judge = ScriptedJudge(**{"Is there anything that makes it better?": 0.9})
    policy = EndOfTurnPolicy(text_weight=0.5, threshold=0.5, threshold_at_max=0.5)
    channel, mic, port = semantic_channel(ScriptedTranscriber("Is there anything that makes it better?"), judge,
                                          acoustic=ScriptedAcoustic(0.8), policy=policy)
    await speak_then_pause_until_judged(mic, judge, 1200)
    await until(lambda: port.turns)
    assert port.turns[0].extra["voice"]["end_of_turn"]["p_complete"] == pytest.approx(0.85)


async def test_a_failing_acoustic_judge_leaves_the_text_judge_to_decide(semantic_channel):
    judge = ScriptedJudge(**{"Is there anything that makes it better?": 0.9})
    policy = EndOfTurnPolicy(text_weight=0.5, threshold=0.5, threshold_at_max=0.5)
    channel, mic, port = semantic_channel(ScriptedTranscriber("Is there anything that makes it better?"), judge,
                                          acoustic=ScriptedAcoustic(0.8, fail=True), policy=policy)
    await speak_then_pause_until_judged(mic, judge, 1200)
    await until(lambda: port.turns)
    ended = port.turns[0].extra["voice"]["end_of_turn"]
    assert ended["reason"] == "complete" and "p_acoustic" not in ended


async def test_a_policy_that_gives_the_voice_no_weight_never_runs_the_acoustic_judge(semantic_channel):
    judge = ScriptedJudge(**{"Is there anything that makes it better?": 0.9})
    acoustic = ScriptedAcoustic(0.0)
    channel, mic, port = semantic_channel(ScriptedTranscriber("Is there anything that makes it better?"), judge,
                                          acoustic=acoustic, policy=EndOfTurnPolicy(text_weight=1.0))
    await speak_then_pause_until_judged(mic, judge, 1200)
    await until(lambda: port.turns)
    assert acoustic.heard == []


def test_without_the_judge_artefact_voice_falls_back_to_the_silence_rule(tmp_path, monkeypatch, caplog):
    """A missing or stale end-of-turn artefact is logged once and leaves the silence rule in
    charge, rather than failing every voice session."""
    from types import SimpleNamespace

    from server.api.services import Services
    from server.config import Settings
    from server.speech.end_of_turn import artefact

    monkeypatch.setattr(artefact, "DATA_DIR", tmp_path)
    services = Services(settings=Settings(turn_detector="semantic"), engine=SimpleNamespace(embedder=None), store=None,
                        educator_token="t")
    assert services.end_of_turn_judge() is None and services.end_of_turn_judge() is None
    assert sum("end-of-turn judge is unavailable" in r.message for r in caplog.records) == 1
    assert services.end_of_turn_acoustic() is None  # the shipped rule gives the voice no weight
