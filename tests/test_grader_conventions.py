"""The labelling conventions the shipped grader applies by phrase (server/grading/data/real/README.md):
legitimising is 5, a continuer or an acknowledgment of effort is at least 3, and a routine
checklist question is a topic switch only past a feeling the patient put into words. Each rule
has a look-alike that must stay out of it."""

from __future__ import annotations

import pytest

from server.grading import phrases as P
from server.grading.base import GradeContext

pytestmark = pytest.mark.slow


def opp(patient: str, emotion: str = "fear", kind: str = "cue") -> GradeContext:
    return GradeContext(patient_turn=patient, patient_emotion=emotion, opportunity_id="o1", opportunity_kind=kind)


@pytest.fixture(scope="module")
def grader():
    from server.grading.trained import TrainedGrader
    return TrainedGrader()


@pytest.mark.parametrize("reply", [
    "I can see why that would worry you.",
    "I don't blame you one bit for feeling that way.",
    "That makes a lot of sense, given everything on your plate.",
    "Honestly, you're doing the very best you can with all this.",
    "That's a completely understandable concern, and we'll take it seriously.",
    "I can imagine it would be, given how much the running means to you.",
])
def test_legitimising_is_level_five(grader, reply):
    g = grader.grade(reply, opp("My wife keeps on at me and I just can't face the gym after a twelve-hour shift."))
    assert g.eccs == 5, (reply, g.eccs, g.flags)
    assert "understand" in g.nurse


@pytest.mark.parametrize("text", [
    "It makes sense to get an X-ray of that knee.",
    "That makes sense, so take one tablet twice a day.",
    "I can see the rash on your arm.",
    "Who do you blame for the delay, the hospital?",
    "I can imagine. When did it start?",
    "I can understand it better when you show me where.",
])
def test_look_alikes_are_not_legitimising(text):
    assert not P.LEGITIMISE.search(text.lower())


@pytest.mark.parametrize("reply", ["Could you tell me a bit more about that?", "Thank you for telling me that; I know it isn't easy."])
def test_a_continuer_or_thanks_for_telling_is_at_least_three(grader, reply):
    g = grader.grade(reply, opp("Since the divorce I hardly see the kids, and when I do I feel like a stranger.", "sadness"))
    assert g.eccs is not None and g.eccs >= 3, (reply, g.eccs, g.flags)


@pytest.mark.parametrize("text", ["Tell me more about the pain.", "Can you tell me more about your medications?"])
def test_a_history_prompt_is_not_a_continuer(text):
    assert not P.CONTINUER.search(text.lower())


def test_checklist_question_past_a_voiced_feeling_is_a_switch(grader):
    g = grader.grade("Do you smoke?", opp("Honestly I'm terrified. I can't stop thinking about it.", "fear", "explicit"))
    assert "topic_switch" in g.flags and g.eccs in (0, 1), (g.eccs, g.flags)


def test_checklist_question_on_the_patients_own_words_is_not_a_switch(grader):
    g = grader.grade("And how much do you smoke a day?", opp("I know I should cut down the smoking, it's just hard with the kids.", "overwhelm"))
    assert "topic_switch" not in g.flags and g.eccs is not None and g.eccs >= 2, (g.eccs, g.flags)


@pytest.mark.parametrize("text", ["It'll come through when it comes through.", "Look, it is what it is.",
                                  "That's just how the system works."])
def test_a_brush_off_is_dismissive(text):
    assert P.DISMISSIVE.search(text.lower())


@pytest.mark.parametrize("reply", ["I'm sure it's only nerves.", "Honestly, you're probably just overdoing it.",
                                   "It'll be a bit of wear and tear, that's all."])
def test_explaining_a_worry_away_before_exploring_is_premature_reassurance(grader, reply):
    g = grader.grade(reply, opp("I keep waking up with my heart racing and I can't stop thinking about it."))
    assert "premature_reassurance" in g.flags and (g.eccs or 0) <= 2, g


@pytest.mark.parametrize("text", ["Is it just the stress, do you think?", "It's just a thought, but how is work?",
                                  "That's only part of the picture; tell me more."])
def test_asking_whether_it_is_stress_is_not_explaining_it_away(text):
    assert not P.REASSURE.search(text.lower())


@pytest.mark.parametrize("text", ["It's probably just stress.", "You're probably just eating less, that's all.",
                                  "I'm sure it's only nerves."])
def test_the_phrase_rules_see_a_worry_explained_away(text):
    assert P.REASSURE.search(text.lower())


def test_putting_it_down_to_age_is_a_stereotype():
    assert P.STEREOTYPE.search("well, that's just your age, really.") and not P.STEREOTYPE.search("what's your age?")


@pytest.mark.parametrize("text", ["The letter will come through when the scan is booked.", "That's how the tablets work: slowly."])
def test_look_alikes_of_a_brush_off_are_not(text):
    assert not P.DISMISSIVE.search(text.lower())


@pytest.mark.parametrize("reply", [
    "How long does an attack usually last?",
    "How would you describe the pain?",
    "What kind of discomfort is it, sharp or dull?",
])
def test_a_question_on_the_complaint_itself_is_not_a_topic_switch(grader, reply):
    """The conventions: a question on the patient's own complaint is 2, never a switch, even when
    it shares no word with what the patient just said."""
    g = grader.grade(reply, opp("It's there again tonight. Please, just be straight with me, is it serious?"))
    assert "topic_switch" not in g.flags and (g.eccs or 0) >= 2, (reply, g.eccs, g.flags)


@pytest.mark.parametrize("reply", [
    "This must be a huge shock for you.",
    "That's an awful lot to take in.",
    "That's devastating news, and I'm sorry.",
    "It sounds like such a blow.",
])
def test_saying_bad_news_is_a_shock_acknowledges_it(grader, reply):
    # after bad news, naming what it is for the patient is an acknowledgment (3), not a dismissal,
    # pity or reassurance (a case writer's chat graded "That's a lot to take in." 2 with reassurance)
    g = grader.grade(reply, opp("So it's cancer. Oh God. I don't know what to say.", kind="explicit"))
    assert g.eccs is not None and g.eccs >= 3, (reply, g.eccs, g.flags)
    assert not {"dismissive", "premature_reassurance", "sympathy_only"} & set(g.flags), (reply, g.flags)


@pytest.mark.parametrize("text,reassures", [
    ("It's okay to take a moment.", False),
    ("It's fine to cry, take your time.", False),
    ("It's okay, it'll be fine.", True),
    ("Don't worry, it's nothing serious.", True),
])
def test_permission_is_not_reassurance(text, reassures):
    assert bool(P.REASSURE.search(text.lower())) is reassures


def test_an_acknowledgment_with_a_real_brush_off_stays_dismissive(grader):
    g = grader.grade("That must be a shock, but it is what it is.", opp("So it's cancer. I can't believe it.", kind="explicit"))
    assert "dismissive" in g.flags and g.eccs == 0, (g.eccs, g.flags)


@pytest.mark.parametrize("text", ["Let's not get emotional about it.", "Let's not get into feelings today.",
                                  "There's no point dwelling on that.", "No need to go into all that.",
                                  "You're probably overthinking it."])
def test_shutting_a_feeling_down_is_dismissive(text):
    assert P.DISMISSIVE.search(text.lower())


@pytest.mark.parametrize("text", ["There's no need to go into hospital for this.", "Let's not get the dose wrong."])
def test_look_alikes_of_shutting_down_are_not_dismissive(text):
    assert not P.DISMISSIVE.search(text.lower())


def test_closing_the_visit_on_a_feeling_is_at_most_one(grader):
    ctx = opp("I just feel so alone in that house since she went.", "sadness", "explicit")
    g = grader.grade("Okay, come back if it gets worse. Is that all?", ctx)
    assert g.eccs is not None and g.eccs <= 1, g
    low = "come back if it gets worse. is there anything else worrying you about being on your own?"
    assert P.CLOSING.search(low) and not P.CLOSING_ASK.search(low)  # asking on about the worry is no closing
