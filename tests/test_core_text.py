"""The one sentence splitter and stop-word list every part of the server uses."""

from __future__ import annotations

from server.core.text import STOP_WORDS, sentence_spans, split_sentences, written


def test_sentences_end_at_stops_questions_exclamations_ellipses_and_line_breaks():
    assert split_sentences("It hurts. When did it start? Ouch! Well… maybe\nnew line") == [
        "It hurts.", "When did it start?", "Ouch!", "Well…", "maybe", "new line"]


def test_a_title_does_not_end_a_sentence_and_closing_quotes_stay_with_theirs():
    assert split_sentences("I saw Dr. Patel today. She said \"rest.\" Then I went home.") == [
        "I saw Dr. Patel today.", "She said \"rest.\"", "Then I went home."]


def test_numbers_and_empty_text():
    assert split_sentences("Take 2.5 mg twice a day.") == ["Take 2.5 mg twice a day."]
    assert split_sentences("   ") == [] and split_sentences("") == []


def test_spans_point_at_the_trimmed_sentences():
    text = "  Hello there.   How are you?  "
    assert [text[a:b] for a, b in sentence_spans(text)] == ["Hello there.", "How are you?"]


def test_stop_words_are_function_words_not_content():
    assert {"the", "and", "you", "what"} <= STOP_WORDS
    assert not {"pain", "chest", "worried", "daughter"} & STOP_WORDS


def test_spoken_contractions_are_written_out():
    assert written("D'you smoke, then?") == "do you smoke, then?"
    assert written("How long's it been like that?") == "How long has it been like that?"
    assert written("What d'ya think's causing it?") == "What do you think is causing it?"
    assert written("Whereabouts does it hurt?") == "where does it hurt?"
    assert written("It's been a long day, hasn't it?") == "It's been a long day, hasn't it?"
