"""The one sentence splitter and stop-word list every part of the server uses."""

from __future__ import annotations

from server.core.text import STOP_WORDS, repaired_question, sentence_spans, split_sentences, without_disfluencies, written


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


def test_hesitations_and_self_repair_markers_carry_nothing():
    assert without_disfluencies("Any pain in your, erm, left arm?") == "Any pain in your left arm?"
    assert without_disfluencies("And, uh, do you drive?") == "And do you drive?"
    assert without_disfluencies("Is there a lot on at the moment, sorry, I mean, are you sleeping?") == \
        "Is there a lot on at the moment, are you sleeping?"
    assert without_disfluencies("Does it come on after meals, I mean straight after?") == "Does it come on after meals, straight after?"
    # nothing follows the marker, or it opens the turn: left alone; words holding "um" or "er" too
    assert without_disfluencies("Do you see what I mean?") == "Do you see what I mean?"
    assert without_disfluencies("I mean, how are you managing?") == "I mean, how are you managing?"
    assert without_disfluencies("Does the umbrella help?") == "Does the umbrella help?"  # not "Does the brella help?"
    assert without_disfluencies("Is Herman your son?") == "Is Herman your son?"


def test_a_self_repair_that_is_a_question_of_its_own_is_offered_alone():
    assert repaired_question("Is there a lot on at the moment, sorry, I mean, are you sleeping?") == "are you sleeping?"
    assert repaired_question("Do you, um, sleep well, or rather, do you wake in the night?") == "do you wake in the night?"
    assert repaired_question("Does it come on after meals, I mean straight after?") is None  # narrows, asks nothing new
    assert repaired_question("Any problems in the family, I mean, has anybody had them?") is None  # points back
    assert repaired_question("Are you sleeping?") is None
