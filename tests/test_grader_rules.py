"""The first rule-based grader on clear examples of each ECCS level, NURSE type and flag."""

from __future__ import annotations

import pytest

from server.grading.base import GradeContext
from server.grading.rules import RuleGrader

FEAR = GradeContext(patient_turn="I'm scared it's my heart. My dad was about my age when...",
                    patient_emotion="fear", opportunity_id="dad", opportunity_kind="cue")
NO_OPP = GradeContext(patient_turn="It started on Tuesday.", patient_emotion="fear")
grader = RuleGrader()


@pytest.mark.parametrize("text,level", [
    ("Let's check your blood pressure now.", 0),
    ("Okay. Any allergies?", 1),
    ("How old was your dad when it happened?", 2),
    ("It sounds like you're really frightened.", 3),
    ("You sound frightened. What worries you most?", 4),
    ("Anyone in your position would be worried.", 5),
    ("I'd feel scared too in your shoes, that sounds frightening.", 6),
])
def test_eccs_levels(text, level):
    assert grader.grade(text, FEAR).eccs == level


@pytest.mark.parametrize("text,nurse", [
    ("It sounds like you're frustrated.", "name"),
    ("This helps me understand what you've been going through.", "understand"),
    ("I can see how hard you've been trying.", "respect"),
    ("I'll be here to help you through this.", "support"),
    ("Could you tell me more about what you mean?", "explore"),
])
def test_nurse_types(text, nurse):
    assert nurse in grader.grade(text, NO_OPP).nurse


@pytest.mark.parametrize("text,flag,ctx", [
    ("I feel so sorry for you.", "sympathy_only", FEAR),
    ("I know exactly how you feel.", "false_understanding", FEAR),
    ("Don't worry, it's probably nothing.", "premature_reassurance", FEAR),
    ("Calm down, you're overreacting.", "dismissive", FEAR),
    ("Any blood in your stool?", "topic_switch", FEAR),
    ("Your troponin and ECG suggest no acute coronary syndrome.", "jargon", NO_OPP),
    ("You should stop smoking and lose weight.", "advice_before_exploring", NO_OPP),
    ("People your age usually don't cope well with this.", "assumption_or_stereotype", NO_OPP),
    ("Please don't get so upset about it, I'm only telling you the results.", "dismissive", FEAR),
    ("Your shifts aren't really relevant here, sugar is sugar.", "dismissive", FEAR),
    ("Your brother's illness doesn't mean it will happen to you.", "premature_reassurance", FEAR),
])
def test_flags(text, flag, ctx):
    assert flag in grader.grade(text, ctx).flags


def test_pity_is_capped_at_two_and_names_nothing():
    g = grader.grade("I feel so sorry for you, that's terrible.", FEAR)
    assert g.eccs <= 2 and "sympathy_only" in g.flags and "name" not in g.nurse


def test_topic_switch_after_explicit_fear():
    ctx = FEAR.model_copy(update={"opportunity_kind": "explicit", "patient_turn": "I'm terrified this is cancer."})
    g = grader.grade("Have you had any weight loss?", ctx)
    assert g.eccs in (0, 1) and "topic_switch" in g.flags and g.space == "reduces"


def test_wrong_emotion_is_inaccurate_right_one_accurate():
    wrong = grader.grade("You seem angry about this.", FEAR)
    right = grader.grade("You seem scared about this.", FEAR)
    assert (wrong.named_emotion, wrong.empathic_accuracy) == ("anger", False)
    assert (right.named_emotion, right.empathic_accuracy) == ("fear", True)


def test_reassurance_and_own_feelings_do_not_count_as_naming():
    assert grader.grade("Don't worry about it.", FEAR).named_emotion is None
    assert grader.grade("I'm worried about your sugar levels.", NO_OPP).named_emotion is None


def test_no_eccs_without_an_opportunity_and_question_types():
    g = grader.grade("What brings you in today?", NO_OPP)
    assert g.eccs is None and g.question_type == "open"
    assert grader.grade("Do you smoke?", NO_OPP).question_type == "closed"


def test_feedback_offers_an_alternative_when_short():
    g = grader.grade("Any allergies?", FEAR)
    assert "\"" in g.feedback and "scared" in g.feedback
    assert grader.grade("Anyone in your position would be worried.", FEAR).feedback.endswith("Well done.")
    assert g.grader_version == "rules-1.0"
