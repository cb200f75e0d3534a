"""The CARE evidence rule (server/engine/care_rule.py) on whole sessions played through the real
engine and grader, at the extremes: fully dismissive, fully empathic, very short, and one with
premature reassurance. A debrief must never praise (4 "Very good" or 5 "Excellent") what the
session's grades or the patient's state contradict."""

from __future__ import annotations

import pytest

from server.engine.care import care_rating, scale
from server.engine.care_rule import MIN_TURNS_FOR_PRAISE, PRAISE_CAP, apply_care_rule, care_caps
from server.engine.summary import CARE_ITEMS, summarise

CASE = "chest-pain-anxiety"

DISMISSIVE = [
    "Calm down, it's nothing.", "You're overreacting, honestly.", "Stop worrying about it.",
    "That's not important right now, just answer the question.", "It's all in your head.",
    "I don't have time for all this, next question.", "Stop being so dramatic.", "Just calm down.",
]
EMPATHIC = [
    "Hello, I'm Dr Lee. What brings you in today?",
    "That sounds really frightening. What worries you most about it?",
    "It sounds like you're scared this could be what happened to your dad. Can you tell me more?",
    "That must have been so hard to go through. How have you been coping since?",
    "I can see how much this is weighing on you. What would help most right now?",
    "You've been carrying a lot on your own. Tell me more about how things are at home.",
    "It makes sense that you're worried. What are you hoping we can do today?",
    "Thank you for telling me all of this. Shall we work out the next steps together?",
]
REASSURING = [
    "Hello, I'm Dr Lee. What brings you in today?",
    "Don't worry, I'm sure it's nothing serious and everything will be fine.",
    "When did the tightness start?",
    "Does anything make it better or worse?",
    "Is there anything else you wanted to tell me?",
    "How are things at home at the moment?",
]


def play(engine, lines):
    """(the CARE items before the rule, the summary `summarise` gives, which applies it)."""
    state, opening = engine.start(CASE)
    turns = []
    for line in lines:
        result, state = engine.respond(state, line)
        turns.append(result)
    summary = summarise(engine.pack(CASE), state, turns, opening)
    return care_rating(turns, state, engine.pack(CASE), summary.checklist_coverage), summary


def assert_rule_holds(summary):
    """Every item within its cap, and the total the sum of the items."""
    caps = care_caps(summary)
    for item, value in summary.care.items():
        assert value <= caps[item][0], f"{item}: {value} above its cap {caps[item]}"
    assert summary.care_total == sum(summary.care.values())
    assert apply_care_rule(summary) == summary  # applying it again changes nothing


def test_fully_dismissive_session_earns_no_praise(engine):
    raw, s = play(engine, DISMISSIVE)
    assert_rule_holds(s)
    assert s.flag_counts.get("dismissive"), f"the grader did not flag a dismissive line: {s.flag_counts}"
    trust_cap = scale(s.final_trust) + 1
    assert max(s.care.values()) <= min(trust_cap, PRAISE_CAP), (s.final_trust, s.care)
    for item in ("showing care and compassion", "really listening", "being positive"):
        assert s.care[item] <= PRAISE_CAP, (item, s.care[item])
    # summarise applied the rule: it took praise away here, which the items alone had given
    assert any(s.care[i] < raw[i] for i in CARE_ITEMS), (raw, s.care)
    assert all(s.care[i] <= raw[i] for i in CARE_ITEMS)


def test_fully_empathic_session_can_still_be_praised(engine):
    raw, s = play(engine, EMPATHIC)
    assert_rule_holds(s)
    assert s.turns >= MIN_TURNS_FOR_PRAISE
    # the rule only takes away praise the evidence contradicts: a good session keeps some
    assert max(s.care.values()) >= 4, (s.final_trust, s.care, raw)
    assert s.care["showing care and compassion"] >= 3, s.care


def test_three_turn_session_is_never_excellent(engine):
    _, s = play(engine, EMPATHIC[:3])
    assert_rule_holds(s)
    assert s.turns == 3
    assert max(s.care.values()) <= PRAISE_CAP, s.care
    assert care_caps(s)["helping me take control"][0] <= PRAISE_CAP


def test_premature_reassurance_caps_what_it_contradicts(engine):
    _, s = play(engine, REASSURING)
    assert_rule_holds(s)
    assert s.flag_counts.get("premature_reassurance"), f"the grader did not flag the reassurance: {s.flag_counts}"
    for item in ("helping me take control", "fully understanding my concerns", "making me feel at ease"):
        assert s.care[item] <= PRAISE_CAP, (item, s.care[item])


def test_caps_on_a_made_up_summary():
    """The observed contradictions, as summaries: Excellent everywhere with trust 1/100, and
    after three turns."""
    from server.engine.summary import SessionSummary

    base = dict(turns=8, opportunities_answered=4, mean_eccs=4.0, nurse_counts={}, flag_counts={}, open_questions=4,
                closed_questions=2, facts_disclosed=[], facts_total=10, concerns_revealed=[], concerns_total=2,
                checklist={}, checklist_coverage=0.5, final_trust=0.01, final_distress=0.9, final_emotion="fear",
                care={item: 5 for item in CARE_ITEMS}, care_total=50)
    s = apply_care_rule(SessionSummary(**base))
    assert s.care["showing care and compassion"] == 2 and max(s.care.values()) == 2 and s.care_total == 20
    short = apply_care_rule(SessionSummary(**{**base, "turns": 3, "final_trust": 0.9}))
    assert short.care["helping me take control"] == PRAISE_CAP
    trusting = apply_care_rule(SessionSummary(**{**base, "final_trust": 0.9}))
    assert trusting.care == base["care"]  # nothing contradicts it: the praise stays
    with pytest.raises(ValueError):
        SessionSummary(**{**base, "turns": "many"})
