"""The end-of-turn policy and the text model's pure parts, with no model loaded."""

from __future__ import annotations

import numpy as np
import pytest

from server.speech.end_of_turn.features import LEXICAL_NAMES, lexical, speech_form, tail
from server.speech.end_of_turn.metrics import scores
from server.speech.end_of_turn.policy import EndOfTurnPolicy


def test_the_maximum_silence_always_ends_the_turn():
    p = EndOfTurnPolicy()
    assert p.decide(2000, text_p=0.0, acoustic_p=0.0).end
    assert p.decide(2000).reason == "max_silence"
    assert not p.decide(1999, text_p=0.0, acoustic_p=0.0).end


def test_a_short_silence_never_ends_the_turn_however_sure_the_judges_are():
    d = EndOfTurnPolicy().decide(100, text_p=1.0, acoustic_p=1.0)
    assert not d.end and d.reason == "too_short"


def test_a_finished_sentence_ends_at_the_first_check_and_a_pause_waits():
    p = EndOfTurnPolicy()
    assert p.decide(200, text_p=0.9).end
    pause = p.decide(200, text_p=0.1)
    assert not pause.end and pause.reason == "incomplete" and pause.probability == pytest.approx(0.1)


def test_silence_mode_ignores_the_judges_and_ends_after_silence_ms():
    p = EndOfTurnPolicy(mode="silence", silence_ms=500)
    assert not p.decide(499, text_p=1.0).end
    d = p.decide(500, text_p=0.0, acoustic_p=0.0)
    assert d.end and d.reason == "silence"


def test_with_no_probability_yet_the_semantic_mode_falls_back_to_the_silence_rule():
    p = EndOfTurnPolicy()
    assert not p.decide(300).end
    assert p.decide(500).end and p.decide(500).reason == "silence"


def test_the_probabilities_are_weighted_and_a_missing_one_drops_out():
    p = EndOfTurnPolicy(text_weight=0.75)
    assert p.combine(0.8, 0.0) == pytest.approx(0.6)
    assert p.combine(None, 0.3) == pytest.approx(0.3)
    assert p.combine(0.2, None) == pytest.approx(0.2)
    assert p.combine(None, None) is None
    assert EndOfTurnPolicy(text_weight=1.0).combine(None, 0.4) == pytest.approx(0.4)  # weight 0 alone still counts


def test_the_threshold_falls_with_the_silence_when_asked():
    p = EndOfTurnPolicy(min_silence_ms=200, max_silence_ms=2000, threshold=0.8, threshold_at_max=0.2)
    assert p.threshold_after(200) == pytest.approx(0.8)
    assert p.threshold_after(1100) == pytest.approx(0.5)
    assert p.threshold_after(5000) == pytest.approx(0.2)
    assert not p.decide(300, text_p=0.6).end
    assert p.decide(1500, text_p=0.6).end


def test_nonsense_settings_are_refused():
    with pytest.raises(ValueError):
        EndOfTurnPolicy(min_silence_ms=3000, max_silence_ms=2000)
    with pytest.raises(ValueError):
        EndOfTurnPolicy(text_weight=1.5)
    with pytest.raises(ValueError):
        EndOfTurnPolicy(mode="vibes")  # type: ignore[arg-type]


def test_speech_form_and_tail_drop_what_whisper_adds_or_leaves_out():
    assert speech_form("Your family, and… I’m") == "your family and i'm"
    assert tail("I was wondering.") == "I was wondering"
    assert tail("I was wondering...") == "I was wondering"
    assert tail("Really?") == "Really?"


def test_the_lexical_features_see_a_dangling_last_word():
    f = dict(zip(LEXICAL_NAMES, lexical("your family, and")))
    assert f["last_conjunction"] == 1 and f["ends_with_comma"] == 0
    f = dict(zip(LEXICAL_NAMES, lexical("So um")))
    assert f["last_hesitation"] == 1 and f["second_last_conjunction"] == 1 and f["two_words"] == 1
    f = dict(zip(LEXICAL_NAMES, lexical("How are you feeling today?")))
    assert f["ends_with_question_mark"] == 1 and not any(v for k, v in f.items() if k.startswith("last_"))
    assert dict(zip(LEXICAL_NAMES, lexical("your family,")))["ends_with_comma"] == 1


def test_the_scores_count_each_class():
    s = scores(np.array([1, 1, 0, 0]), np.array([0.9, 0.2, 0.1, 0.6]))
    assert s["accuracy"] == 0.5 and s["f1_complete"] == 0.5 and s["f1_unfinished"] == 0.5


def test_turn_train_without_the_shared_folder_says_why_in_one_line(tmp_path, capsys):
    from server.cli import main

    assert main(["turn", "train", "--shared", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--shared" in err


def test_the_shipped_text_model_artefact_is_numbers_only():
    """Weights and feature names, no dataset text (the dialogues are CC BY 4.0 and AnnoMI has no licence file)."""
    from server.speech.end_of_turn import artefact

    arrays, meta, version = artefact.load()
    assert all(a.dtype.kind in "fi" for a in arrays.values())  # float and int8 arrays, no strings or objects
    assert arrays["eot.head.W"].shape == (2 * 384 + len(LEXICAL_NAMES), 1)
    assert meta.lexical_names == list(LEXICAL_NAMES) and version.startswith(artefact.BASE_VERSION + "+")
    assert sum(a.nbytes for a in arrays.values()) < 5_000_000  # two int8 layers and a head
