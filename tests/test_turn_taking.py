"""Turn taking on scripted timelines: probabilities and patient-speaking flags over time,
no audio and no clock (the livekit-agents style of testing endpointing)."""

from __future__ import annotations

import numpy as np

from server.speech.turns import TurnConfig, TurnDetector

W = 32.0  # ms per VAD window


def run(timeline, config=None):
    """timeline: list of (duration_ms, prob, patient_speaking). Returns (kind, at_ms) events."""
    det = TurnDetector(config or TurnConfig())
    events, t = [], 0.0
    for dur, prob, patient in timeline:
        for _ in range(int(dur / W)):
            t += W
            for e in det.feed(prob, np.zeros(512, np.float32), t, patient):
                events.append(e)
    return det, events


def kinds(events):
    return [e.kind for e in events if e.kind not in ("tentative", "resumed")]


def test_speech_then_silence_is_one_turn_ended_by_the_silence_window():
    _, ev = run([(300, 0.0, False), (1500, 0.9, False), (700, 0.05, False)])
    assert kinds(ev) == ["speech_started", "speech_stopped", "turn"]
    turn = ev[-1]
    # a tentative end 160 ms into the silence lets ASR start early on the same speech
    tentative = [e for e in ev if e.kind == "tentative"]
    assert len(tentative) == 1 and tentative[0].speech_end_ms == turn.speech_end_ms
    assert 160 <= tentative[0].at_ms - turn.speech_end_ms < 160 + 2 * W
    assert len(tentative[0].audio) <= len(turn.audio)
    assert abs(turn.speech_end_ms - 1800) <= 2 * W        # last voiced window (windows are 32 ms)
    assert 500 <= turn.at_ms - turn.speech_end_ms < 500 + 2 * W  # default endpointing ~500 ms
    assert len(turn.audio) >= 512 * int(1500 / W)         # the speech itself, plus pre-roll


def test_endpointing_is_configurable():
    _, ev = run([(1000, 0.9, False), (1200, 0.0, False)], TurnConfig(silence_ms=1000))
    turn = next(e for e in ev if e.kind == "turn")
    assert 1000 <= turn.at_ms - turn.speech_end_ms < 1000 + 2 * W


def test_short_pauses_do_not_split_a_turn():
    _, ev = run([(800, 0.9, False), (300, 0.1, False), (800, 0.9, False), (600, 0.0, False)])
    assert kinds(ev).count("turn") == 1
    # the pause produced a tentative end whose speech end is stale by the time the turn ends
    first_tentative = next(e for e in ev if e.kind == "tentative")
    turn = next(e for e in ev if e.kind == "turn")
    assert first_tentative.speech_end_ms < turn.speech_end_ms
    # and the detector says so the moment speech resumes, so early ASR on it can be dropped
    assert [e.kind for e in ev if e.kind in ("tentative", "resumed")] == ["tentative", "resumed", "tentative"]
    resumed = next(e for e in ev if e.kind == "resumed")
    assert first_tentative.at_ms < resumed.at_ms < turn.speech_end_ms


def test_silence_and_blips_never_become_turns():
    _, ev = run([(5000, 0.02, False)])
    assert ev == []
    _, ev = run([(64, 0.9, False), (1000, 0.0, False), (160, 0.9, False), (1000, 0.0, False)])
    assert "turn" not in kinds(ev)


def test_barge_in_after_sustained_speech_over_the_patient():
    _, ev = run([(500, 0.0, True), (1200, 0.9, True), (600, 0.0, False)])
    assert kinds(ev) == ["speech_started", "barge_in", "speech_stopped", "turn"]
    start, barge = ev[0], ev[1]
    assert start.during_patient and 600 <= barge.at_ms - start.at_ms + 96 < 600 + 3 * W


def test_backchannel_over_the_patient_does_not_interrupt():
    _, ev = run([(500, 0.0, True), (320, 0.9, True), (700, 0.0, True)])
    assert kinds(ev) == ["speech_started", "speech_stopped", "backchannel"]


def test_speech_that_outlasts_the_patient_is_a_turn_not_a_backchannel():
    _, ev = run([(500, 0.0, True), (200, 0.9, True), (1000, 0.9, False), (600, 0.0, False)])
    assert kinds(ev) == ["speech_started", "speech_stopped", "turn"]


def test_long_speech_is_cut_at_the_limit():
    cfg = TurnConfig(max_turn_ms=3000)
    _, ev = run([(5000, 0.9, False)], cfg)
    turn = next(e for e in ev if e.kind == "turn")
    assert turn.cut and turn.reason == "too_long" and 3000 <= turn.at_ms <= 3000 + 4 * W


def test_client_stopping_mid_turn_times_out_into_a_turn():
    det, ev = run([(800, 0.9, False)])
    assert kinds(ev) == ["speech_started"]
    out = det.timeout(5000)
    assert [e.kind for e in out] == ["speech_stopped", "turn"] and out[-1].reason == "stalled"
    assert det.timeout(6000) == []
