"""The shipped end-of-turn text model on hand-written learner phrases (loads MiniLM).

The phrases (server/speech/end_of_turn/hand_cases.py) were written before training and never
used for a choice. The one this model still gets wrong at 0.5 is listed, with its figure, and a
check that fails once it is learnt (then the plain check covers it).
"""

from __future__ import annotations

import pytest

from server.speech.end_of_turn.hand_cases import hand_cases
from server.speech.end_of_turn.judge import EndOfTurnModel

pytestmark = pytest.mark.slow

# eot-text-2+e5a51a2d (fine-tuned) gets the short empathic remarks the logistic regressions missed, but
# reads "I understand that you" as finished (P 0.61, both forms: above four finished phrases at 0.52-0.57, so
# no threshold gets every phrase right)
KNOWN_WRONG = {"I understand that you", "i understand that you"}


@pytest.fixture(scope="module")
def model():
    from server.speech.end_of_turn.text_model import TextEndOfTurnModel

    return TextEndOfTurnModel()


@pytest.mark.parametrize("text,complete", [(t, c) for t, c in hand_cases() if t not in KNOWN_WRONG], ids=lambda v: str(v))
def test_a_hand_written_phrase_is_judged_finished_or_not(model, text, complete):
    p = model.probability_complete(text)
    assert (p >= 0.5) == complete, f"P(complete)={p:.3f}"


def test_the_known_misses_are_still_misses(model):
    """When the model learns one, move it out of KNOWN_WRONG so the plain check covers it."""
    cases = dict(hand_cases())
    assert all((model.probability_complete(t) >= 0.5) != cases[t] for t in KNOWN_WRONG)


def test_the_model_keeps_the_protocol_and_has_a_stable_version(model):
    assert isinstance(model, EndOfTurnModel)
    assert model.version.startswith("eot-text-2+") and len(model.version) == len("eot-text-2+") + 8
    assert model.probability_complete("") == 0.5
    assert model.probability_complete("   ") == 0.5


def test_a_batch_scores_like_one_at_a_time(model):
    texts = ["I was wondering", "How are you feeling today?", ""]
    batch = model.probabilities(texts)
    for t, p in zip(texts, batch):
        assert p == pytest.approx(model.probability_complete(t), abs=1e-4)


def test_a_whisper_full_stop_after_a_partial_phrase_changes_nothing(model):
    assert model.probability_complete("I was wondering.") == model.probability_complete("I was wondering")
    assert model.probability_complete("So um.") < 0.5


def test_onnx_and_torch_give_the_same_probability(model):
    """A live pause runs on ONNX Runtime (core.onnx_graphs); batches and `runtime="torch"` in PyTorch."""
    from server.speech.end_of_turn.text_model import TextEndOfTurnModel

    assert model.runtime == "onnx"
    slow = TextEndOfTurnModel(embedder=model.embedder, runtime="torch")
    texts = [t for t, _ in hand_cases()] + ["So tell me, um,", "ok", "And how long has the pain in your chest been there?" * 6]
    fast = [model.probability_complete(t) for t in texts]
    batch = model.probabilities(texts)  # more than one text: PyTorch
    torch_one = [slow.probability_complete(t) for t in texts]
    assert max(abs(a - b) for a, b in zip(fast, torch_one)) < 1e-4
    assert max(abs(a - b) for a, b in zip(fast, batch)) < 1e-4
    with pytest.raises(ValueError, match="onnx, torch"):
        TextEndOfTurnModel(runtime="cuda")
