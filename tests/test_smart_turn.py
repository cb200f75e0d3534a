"""The acoustic end-of-turn judge, smart-turn v3 read from the installed pipecat-ai wheel."""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest

from server.speech.end_of_turn import smart_turn
from server.speech.end_of_turn.judge import AcousticEndOfTurnModel


def test_the_window_keeps_the_last_eight_seconds_and_pads_in_front():
    short = np.ones(16000, np.float32)
    w = smart_turn.last_window(short)
    assert len(w) == 8 * 16000 and w[-16000:].all() and not w[:-16000].any()
    long = np.arange(10 * 16000, dtype=np.float32)
    assert np.array_equal(smart_turn.last_window(long), long[-8 * 16000:])


def test_without_the_wheel_the_error_names_the_install_command(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(smart_turn.importlib.metadata, "distribution", missing)
    with pytest.raises(smart_turn.SmartTurnUnavailable, match="pip install --no-deps pipecat-ai"):
        smart_turn.SmartTurnModel()


def test_the_model_scores_audio_between_zero_and_one():
    model = smart_turn.SmartTurnModel()
    assert isinstance(model, AcousticEndOfTurnModel) and model.version.startswith("smart-turn-v3.2-cpu+pipecat-ai-")
    assert model.probability_complete_audio(np.zeros(0, np.float32)) == 0.5
    t = np.arange(16000 * 2) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 180 * t) * (t < 1.6)).astype(np.float32)  # a voiced 1.6 s, then silence
    p = model.probability_complete_audio(tone)
    assert 0.0 <= p <= 1.0
    assert model.probability_complete_audio(tone) == p  # deterministic
