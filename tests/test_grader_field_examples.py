"""Every example that outside testing found graded wrong (issue 14), as a test of the shipped
grader's output, with the level range the labelling conventions give
(server/grading/data/real/README.md). Patient turns are written here to fit each reply.
"""

from __future__ import annotations

import pytest

from server.engine.acts import classify
from server.core.types import DialogueAct
from server.grading.base import GradeContext

pytestmark = pytest.mark.slow


def opp(patient: str, emotion: str, kind: str = "cue") -> GradeContext:
    return GradeContext(patient_turn=patient, patient_emotion=emotion, opportunity_id="o1", opportunity_kind=kind)


# (patient turn, emotion, reply, allowed ECCS levels, flags that must be absent, flags that must be present)
CASES = [
    ("It's been really hard since I lost my job. Money's tight and I'm not sleeping.", "overwhelm",
     "That must be difficult for you then. And you said you live with your wife and two children?", {3, 4}, {"dismissive", "topic_switch"}, set()),
    ("The pain in my side has been awful and I'm worried I'll lose more time off work.", "fear",
     "Well, let's try our best. Let's try and get you well soon. You mentioned it's on your left side?", {1, 2}, set(), {"premature_reassurance"}),
    ("It's been a nightmare, the kids are off school, my mum's in hospital and now my throat.", "overwhelm",
     "Sorry to hear that. Seems like there's a lot going on. Let's start with your sore throat first.", {1, 2}, set(), set()),
    ("My managers keep piling more on and they're on my back all the time at work.", "overwhelm",
     "Is it getting you down?", {3, 4, 5}, {"topic_switch", "dismissive"}, set()),
    ("I don't feel down, just a bit stressed.", "overwhelm",
     "What kind of things do you do to alleviate your stress?", {3, 4, 5}, {"topic_switch", "dismissive"}, set()),
    ("I'm sure it's nothing. I'm probably wasting your time.", "fear",
     "When did the chest pain start?", {2}, {"dismissive", "topic_switch"}, set()),
    ("He died in March. The house is so quiet now.", "sadness",
     "You must miss him terribly.", {3, 4, 5, 6}, {"dismissive", "advice_before_exploring"}, set()),
    ("I'm on nights again this month. I just sleep when I can.", "overwhelm",
     "Working nights must make it really hard to keep any routine.", {3, 4, 5}, {"dismissive", "topic_switch"}, set()),
    ("I found the lump in the shower last week.", "fear",
     "How did you feel when you saw it?", {3, 4, 5}, {"dismissive", "topic_switch"}, set()),
]


@pytest.fixture(scope="module")
def grader():
    from server.grading.trained import TrainedGrader
    return TrainedGrader()


@pytest.mark.parametrize("patient,emotion,reply,levels,absent,present", CASES, ids=[c[2][:40] for c in CASES])
def test_field_example_grade(grader, patient, emotion, reply, levels, absent, present):
    g = grader.grade(reply, opp(patient, emotion))
    assert g.eccs in levels, (reply, g.eccs, g.flags)
    assert not absent & set(g.flags), (reply, g.flags)
    assert present <= set(g.flags), (reply, g.flags)


def test_greeting_after_opening_cue_is_not_penalised(grader):
    g = grader.grade("Good morning Mr Chen, have a seat.", opp("I've been having these chest pains and I'm a bit on edge.", "fear"))
    assert g.eccs is None and g.flags == []


def test_question_about_the_worry_names_no_emotion(grader):
    g = grader.grade("Is there something you're worried this could be?", opp("The headaches just won't go away.", "fear"))
    assert g.named_emotion is None and g.empathic_accuracy is None
    assert g.eccs is not None and g.eccs >= 3


def test_dialogue_acts_of_field_examples():
    assert classify("You must miss him terribly.")[0] != DialogueAct.advice
    assert classify("How did you feel when you saw it?")[0] in (DialogueAct.open_question, DialogueAct.empathic_statement)
    assert classify("Good morning Mr Chen, have a seat.")[0] == DialogueAct.greeting


def test_grade_carries_confidence_and_unsure_feedback_says_so(grader):
    from server.grading.feedback import UNSURE_BELOW
    g = grader.grade("Okay.", opp("I'm scared it's something bad.", "fear", "explicit"))
    assert g.confidence.eccs is not None and 0.0 <= g.confidence.eccs <= 1.0
    assert set(g.confidence.flags) >= {"dismissive", "topic_switch"}
    if g.confidence.eccs < UNSURE_BELOW:
        assert g.feedback.startswith("I'm not certain")
    else:
        assert not g.feedback.startswith("I'm not certain")


def test_engine_moves_less_on_an_unsure_grade():
    from server.engine.state import empathy_signal
    from server.grading.base import Confidence, Grade
    sure = Grade(grader_version="t", eccs=0, flags=["dismissive"], confidence=Confidence(eccs=1.0, flags={"dismissive": 1.0}))
    unsure = sure.model_copy(update={"confidence": Confidence(eccs=0.3, flags={"dismissive": 0.55})})
    assert empathy_signal(unsure) > empathy_signal(sure)


# History-taking in a session after an opening (bench_state's courteous scripts): a question,
# summary or invitation on what the patient has said in this consultation is ECCS 2 and never a
# topic switch; a routine checklist question that takes up nothing the patient said is one.
EARLIER = "I have been passing blood in my urine for four months. Bright red. Nobody rang me back about the referral."


def in_session(patient: str, emotion: str = "anger") -> GradeContext:
    return GradeContext(patient_turn=patient, patient_emotion=emotion, opportunity_id="o1", opportunity_kind="cue", earlier=EARLIER)


@pytest.mark.parametrize("reply,levels,switch", [
    ("Do you have any pain or burning when you pass urine?", {2, 3}, False),
    ("So, to sum up, you've had blood in your urine for four months and the referral never came through.", {2, 3, 4}, False),
    ("Could you tell me what's brought you in today?", {2, 3, 4}, False),
    ("How has your mood been lately?", {3, 4, 5}, False),
    ("Okay. And do you smoke at all?", {0, 1}, True),
])
def test_history_on_the_patients_own_complaint_is_not_a_topic_switch(grader, reply, levels, switch):
    g = grader.grade(reply, in_session("March. Last time was Sunday. I'm absolutely fuming, to be honest with you."))
    assert g.eccs in levels, (reply, g.eccs, g.flags)
    assert ("topic_switch" in g.flags) == switch, (reply, g.flags)


def test_the_same_question_without_the_earlier_complaint_can_be_a_switch(grader):
    """Without what the patient said earlier, a routine urine question after anger takes up nothing."""
    ctx = in_session("March. Last time was Sunday. I'm absolutely fuming, to be honest with you.").model_copy(update={"earlier": ""})
    g = grader.grade("Do you have any pain or burning when you pass urine?", ctx)
    assert "topic_switch" in g.flags and g.eccs in (0, 1)


def test_asking_the_patients_name_in_a_greeting_is_courtesy(grader):
    g = grader.grade("Hello, I'm Sam, one of the junior doctors in the emergency department. Could you tell me your name, please?",
                     opp("I've got this tightness in my chest and I'm a bit on edge.", "fear"))
    assert g.eccs is None and g.flags == []
