"""The patient answers what was asked and reacts as a person would (issue 15), through the real
engine: MiniLM retrieval, the shipped grader, the planner and the template wording."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from server.config import get_settings
from server.engine.acts import classify
from server.engine.factory import build_engine
from server.engine.planner import plan_turn
from server.engine.retrieval import SearchResult
from server.core.types import DialogueAct
from server.grading.base import Grade
from server.persona.loader import validate_paths

ROOT = Path(__file__).resolve().parents[1]
PACKS = tuple(sorted(p.parent.name for p in (ROOT / "persona_packs").glob("*/persona.yaml")))  # every shipped pack
# a polite history with no empathy; written for these tests, not from the packs' example questions
COURTEOUS = [
    "Good morning, I'm Alex, one of the doctors here. Please have a seat.",
    "What brings you in today?",
    "When did it first start?",
    "Does anything make it better or worse?",
    "Have you noticed anything else along with it?",
    "Do you take any regular medication?",
    "Any allergies?",
    "Have you had any medical problems in the past?",
    "Does anything run in the family?",
    "Do you smoke?",
    "How much alcohol do you drink in a week?",
    "What do you do for work?",
    "Who do you live with?",
    "Okay, thank you. So, to sum up, you've had this for a while and it has been getting worse.",
    "What I'd like to do now is examine you and run some tests, and then we'll talk about the results.",
]


@pytest.fixture(scope="module")
def engine():
    return build_engine(get_settings())


def play(engine, pid, lines):
    state, results, _ = engine.play(pid, lines)
    return state, results


@pytest.mark.parametrize("question", [
    "Have you had any thoughts of not wanting to be here any more?",
    "Do you ever feel you'd be better off not being here?",
    "Sometimes people in your situation feel life isn't worth living. Has that happened to you?",
])
def test_paraphrased_suicide_questions_get_the_risk_answer_in_every_pack(engine, question):
    for pid in PACKS:
        _, (r,) = play(engine, pid, [question])
        assert r.plan.risk == "self_harm", (pid, r.reply)
        pack = engine.pack(pid)
        if any(f.id == "self_harm" for f in pack.facts):  # the case's own fact answers, in the style trust allows
            assert r.plan.facts == ["self_harm"] and r.reply.strip(), (pid, r.reply)
            assert any(getattr(pack.fact("self_harm").answers, st) in r.reply for st in ("guarded", "neutral", "open"))
        else:
            assert pack.risk.self_harm in r.reply


def test_a_risk_question_in_a_case_with_its_own_risk_fact_discloses_that_fact_and_is_said_once(engine):
    # the checklist's risk item counts the fact: a risk question must tick it, not only say the risk line
    _, (r,) = play(engine, "bereaved-daughter", ["Some people who are grieving think about hurting themselves. Have you?"])
    assert r.plan.risk == "self_harm" and "self_harm" in r.plan.facts
    pack = engine.pack("bereaved-daughter")
    assert r.reply.count(pack.risk.self_harm) <= 1


@pytest.mark.parametrize("question,kind", [
    ("Some people think about hurting themselves when it gets this bad. Has that crossed your mind?", "self_harm"),
    ("I ask everyone this: have you had any thoughts of hurting another person?", "harm_to_others"),
    ("Do you ever feel like hurting them?", "harm_to_others"),
    ("People can reach a point where they feel they can't go on - has anything like that crossed your mind?", "self_harm"),
])
def test_risk_questions_about_themselves_another_person_or_after_a_dash_get_their_kind(question, kind):
    from server.engine.risk import risk_kind

    assert risk_kind(question) == kind


def test_a_question_after_a_remark_is_matched_on_its_own_words(engine):
    # the remark before the dash is not the subject: the question is about the worst episode
    _, (r,) = play(engine, "chest-pain-anxiety", [
        "That sounds like a long fortnight for you and your family - when did this all first start?"])
    assert "onset_timing" in r.plan.facts, r.reply


def test_a_clause_that_asks_after_a_short_lead_in_is_a_question():
    from server.engine.retrieval import asks_something, clauses

    assert asks_something("In your own mind, what do you reckon is behind it")
    assert not asks_something("In the end it was fine, thanks")
    assert clauses("Do you smoke, and anything you're allergic to?") == ["Do you smoke", "anything you're allergic to?"]


def test_a_terse_question_holding_one_facts_words_gets_that_fact(engine):
    for pid, q, fact in (("bereaved-daughter", "Were you his main carer?", "carer_role"),
                         ("chest-pain-anxiety", "What are you on at the moment?", "medications")):
        _, (r,) = play(engine, pid, [q])
        assert fact in r.plan.facts, (pid, q, r.reply)


@pytest.mark.parametrize("pid,question,fact", [
    ("chest-pain-anxiety", "Do you get on all right with penicillin?", "allergies"),
    ("bereaved-daughter", "Any trouble with penicillin or other antibiotics?", "allergies"),
    ("older-indirect-burden", "Do you still get out to see people much?", "energy_mood"),
    ("older-indirect-burden", "Do you manage to drop off again once you've woken?", "sleep"),
    ("diabetes-social-barriers", "Is there anything else you're getting treatment for?", "past_history"),
])
def test_everyday_history_wordings_find_their_fact(engine, pid, question, fact):
    """Wordings the general history phrasings cover in other words (written for this test, after
    `phrasings.SUBJECTS` and not from any bank or pack); each got "I'm not sure" before."""
    _, (r,) = play(engine, pid, [question])
    assert fact in r.plan.facts, (pid, question, r.reply)


@pytest.mark.parametrize("pid,question,facts", [
    ("older-indirect-burden", "Is anyone at home with you, and, er, how did you travel here today?", {"living", "transport"}),
    ("angry-missed-followup", "How's your wife taking all this, sorry, I mean, have you tried any home remedies?", {"self_care"}),
])
def test_hesitations_and_self_repairs_do_not_hide_the_question(engine, pid, question, facts):
    """A hesitation sound between two questions, and a nervous learner's self-repair, are read as
    meant (`core.text.without_disfluencies`); written for this test."""
    _, (r,) = play(engine, pid, [question])
    assert facts <= set(r.plan.facts), (pid, question, r.reply)


@pytest.mark.parametrize("pid,question,concern", [
    ("bereaved-daughter", "Frightened you'll end up back in that low place?", "relapse_fear"),
    ("chest-pain-anxiety", "Scared for your boys?", "leaving_kids"),
])
def test_a_worry_asked_about_too_early_is_the_one_held_back(engine, pid, question, concern):
    """Asked about a worry before trust allows it, the patient holds back that worry, not the
    first one the pack lists (before: guilt about going home; the fear like father's)."""
    _, (r,) = play(engine, pid, [question])
    assert r.plan.concern is None and r.plan.deflected_facts == [concern], (pid, question, r.plan)


def test_a_finding_on_examination_is_not_answered_with_a_history_fact(engine):
    """"Is your stomach tender if I press just here?" asks what the clinician's hands find, which no
    pack scripts: no fact, where before the nearest symptom fact was said; a history question
    about pain on an action of the patient's own still gets its fact."""
    for pid, question in (("older-indirect-burden", "Is your stomach tender if I press just here?"),
                          ("chest-pain-anxiety", "Does the chest feel sore as I press here?")):
        _, (r,) = play(engine, pid, [question])
        assert r.plan.facts == [], (pid, question, r.reply)
    _, (r,) = play(engine, "angry-missed-followup", ["Does it hurt when you pass water?"])
    assert r.plan.facts, r.reply


def test_safeguarding_and_harm_to_others_questions_get_their_answers(engine):
    _, (a, b) = play(engine, "diabetes-social-barriers", ["Is anyone at home hurting you?", "Have you had thoughts of harming someone else?"])
    pack = engine.pack("diabetes-social-barriers")
    assert a.plan.risk == "safeguarding" and pack.risk.safeguarding in a.reply
    assert b.plan.risk == "harm_to_others" and pack.risk.harm_to_others in b.reply


@pytest.mark.parametrize("question,kind", [
    ("Some people in your position feel they simply can't go on. Is that how it's been for you?", "self_harm"),
    ("Do you ever feel you can't carry on like this?", "self_harm"),
    ("Have you been so angry you've worried you'd take it out on somebody?", "harm_to_others"),
    ("Have you ever felt you might lash out?", "harm_to_others"),
    ("Is there someone at home who frightens you?", "safeguarding"),
    ("Does anybody in your life treat you badly?", "safeguarding"),
    ("Can you carry on working with the pain?", None),
    ("So you can't go on the bus on your own?", None),
    ("Have you been able to finish everything you needed to?", None),
    ("Is there anyone who helps you at home?", None),
    ("Does it hurt when you take a deep breath?", None),
    ("Have things ever felt so bleak that it wasn't worth carrying on?", "self_harm"),
    ("Do you ever lie there hoping you won't wake up?", "self_harm"),
    ("Some folk in your position would rather not go on. Is that you at all?", "self_harm"),
    ("Have you felt like getting your own back on the people who did this?", "harm_to_others"),
    ("Is somebody at home being rough with you?", "safeguarding"),
    ("Is anyone using your bank card without asking?", "safeguarding"),
    ("Would you rather not go on the waiting list?", None),
    ("Is it worth the drive to that pharmacy?", None),
    ("Did you wake up with it this morning?", None),
    ("You wouldn't go and do something daft, would you?", "self_harm"),
    ("Are you worried you might do something you'd regret?", "self_harm"),
    ("When it's bad, do you see any way forward at all?", "self_harm"),
    ("Has it all been getting too much to keep going?", "self_harm"),
    ("Would your family be better off if you weren't here, do you think?", "self_harm"),
    ("D'you ever feel completely hopeless?", "self_harm"),
    ("Did you do something daft with the dosage?", None),
    ("Is the pain unbearable at night?", None),
    ("Do you feel hopeless about the diet?", None),
    ("Would it be easier if you weren't on nights?", None),
    ("Can you see a way to get to the pharmacy?", None),
    ("Do you see any point in going on?", "self_harm"),
    ("Do you see any point in the new tablets?", None),
    # someone else as the object of a euphemism; hopelessness as "not going on"; safety at home
    ("You wouldn't do anything stupid to that surgeon, would you?", "harm_to_others"),
    ("Are you worried you'd do something to him if you saw him?", "harm_to_others"),
    ("Have you caught yourself thinking about not being around?", "self_harm"),
    ("And do you feel safe and comfortable where you live?", "safeguarding"),
    ("Does anybody in the house make you feel on edge or scared?", "safeguarding"),
    ("Would you do something to the garden this spring?", None),
    ("Some people feel their loved ones would be better off without them. Does that ring true for you?", "self_harm"),
    ("Would your stomach be better off without them, those tablets?", None),
    ("Do you think about not going on the trip?", None),
    # a dark place asked about now is a risk question; the same place "again" is a fear of relapse
    ("Have you found yourself in a very dark place these last few weeks?", "self_harm"),
    ("Does it scare you, the idea of ending up in that dark place again?", None),
    # not being here put as what would be easier; fear of someone; hands laid on
    ("Do you sometimes feel it'd be simpler not to be here at all?", "self_harm"),
    ("Have you ever felt it would be better not to wake up?", "self_harm"),
    ("Ever felt you'd be better off out of the way?", "self_harm"),
    ("Do you ever feel like you'd rather just disappear?", "self_harm"),
    ("Is there anybody you're scared of at home?", "safeguarding"),
    ("Has anyone ever laid a finger on you?", "safeguarding"),
    ("Is anyone at home making your life difficult or scaring you?", "safeguarding"),
    ("Would it be easier not to go in to work this week?", None),
    ("Is it better not to eat before the test?", None),
    ("Are you scared of needles?", None),
    ("Would you rather just disappear off to bed?", None),
    ("Has someone hurt your back lifting?", None),
    # the follow-up of a risk assessment
    ("Have you come close to acting on those thoughts?", "self_harm"),
    ("Have you ever acted on them?", "self_harm"),
    ("Do you plan to act on the advice?", None),
    ("Have you acted on the letter?", None),
])
def test_risk_questions_are_caught_in_other_wordings_and_look_alikes_are_not(question, kind):
    from server.engine.risk import risk_kind

    assert risk_kind(question) == kind


def test_a_pack_without_a_risk_field_is_refused(tmp_path):
    src = (ROOT / "persona_packs" / "chest-pain-anxiety" / "persona.yaml").read_text()
    start = src.index("\nrisk:")
    end = src.index("\nuncovered:")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "persona.yaml").write_text(src[:start] + src[end:])
    packs, problems = validate_paths([tmp_path / "p"])
    assert not packs and any("risk" in str(p) for p in problems)


def test_core_history_is_given_guarded_before_its_gate_opens(engine):
    """Family history is gated at trust 0.45 in the chest-pain pack (baseline 0.33): asked
    early, it is said in the guarded style, not deflected."""
    pack = engine.pack("chest-pain-anxiety")
    assert pack.fact("family_history").gate.min_trust > pack.emotion.baseline.trust
    _, (r,) = play(engine, "chest-pain-anxiety", ["Does anyone in your family have heart problems?"])
    assert "family_history" in r.plan.facts and pack.fact("family_history").answers.guarded in r.reply


def test_a_two_part_question_gets_both_parts_answered(engine):
    _, (r,) = play(engine, "chest-pain-anxiety", ["Do you take any medicines, and are you allergic to anything?"])
    assert {"medications", "allergies"} <= set(r.plan.facts)


def test_an_opening_question_asks_for_the_presenting_complaint(engine):
    for q in ("So what's been going on?", "What can I do for you today?"):
        _, (r,) = play(engine, "older-indirect-burden", [q])
        assert set(r.plan.facts) & {"sleep", "appetite_weight"}, (q, r.reply)


def test_a_fact_asked_again_is_referred_back_to(engine):
    _, (a, b) = play(engine, "chest-pain-anxiety", ["Do you smoke?", "Sorry, do you smoke at all?"])
    assert "smoking" in a.plan.facts and b.reply.startswith("Like I said")


def test_a_fact_triggered_cue_that_did_not_fit_fires_later(engine):
    """The cue triggered by telling the family history waits for a turn with room."""
    pack = engine.pack("chest-pain-anxiety")
    state, _ = engine.start("chest-pain-anxiety")
    state.disclosed_facts.append("family_history")  # said on an earlier, full turn
    state.raised_opportunities += ["minimising", "dad_cue"]
    state.history.append(("learner", "Okay."))
    grade = Grade(grader_version="t", question_type="none")
    before = state.model_dump()
    plan, after = plan_turn(pack, state, DialogueAct.other, grade, SearchResult([], 0.0), 0.0)
    assert plan.opportunity == "phone_call_cue"
    assert state.model_dump() == before, "plan_turn changed the state it was given"
    assert after.pending_opportunity == "phone_call_cue" and "phone_call_cue" in after.raised_opportunities
    assert after.times_raised["phone_call_cue"] == 1 and after.raised_at["phone_call_cue"] == state.turn_index


def test_a_courteous_history_leaves_the_patient_near_baseline(engine):
    for pid in ("chest-pain-anxiety", "older-indirect-burden"):
        state, results = play(engine, pid, COURTEOUS)
        base = engine.pack(pid).emotion.baseline
        assert state.emotional.trust >= base.trust - 0.05, (pid, [(r.learner_text, r.state_after) for r in results])
        assert state.emotional.distress <= base.distress + 0.10, pid


def test_an_ignored_cue_is_raised_at_most_twice(engine):
    pack = engine.pack("chest-pain-anxiety")
    _, results = play(engine, "chest-pain-anxiety", COURTEOUS)
    for opp in pack.empathic_opportunities:
        assert sum(opp.line in r.reply for r in results) <= 2, opp.id


def test_a_feeling_the_patient_voiced_is_not_corrected(engine):
    """The angry patient opened angry; naming anger is accepted, never "I'm not angry"."""
    _, (r,) = play(engine, "angry-missed-followup", ["You sound really angry about this."])
    assert r.plan.correction is None and "not angry" not in r.reply.lower()


def test_a_feeling_behind_a_hidden_concern_is_not_corrected(engine):
    """The bereaved daughter is sad on the surface but keeps back a fear of relapse: a learner
    who says she seems scared is not told "I'm not scared"."""
    pack = engine.pack("bereaved-daughter")
    assert pack.emotion.primary.value == "sadness" and any("fear" in c.id for c in pack.hidden_concerns)
    _, (r,) = play(engine, "bereaved-daughter", ["You seem really scared about all this."])
    assert r.plan.correction is None and "not scared" not in r.reply.lower(), r.reply


def test_greetings_summaries_and_plans_are_their_own_acts():
    assert classify("Good morning, I'm Sam, one of the junior doctors. Please take a seat.")[0] == DialogueAct.greeting
    assert classify("So, to sum up, the pain started two weeks ago and comes at night.")[0] == DialogueAct.summary
    assert classify("What I'd like to do next is examine you and arrange a blood test.")[0] == DialogueAct.plan


def test_persona_check_passes_the_shipped_packs_and_fails_an_unreachable_concern(tmp_path, capsys):
    from server.cli import main

    assert main(["persona", "check", str(ROOT / "persona_packs" / "chest-pain-anxiety")]) == 0
    pack_dir = tmp_path / "locked"
    shutil.copytree(ROOT / "persona_packs" / "chest-pain-anxiety", pack_dir)
    y = pack_dir / "persona.yaml"
    text = y.read_text().replace("id: chest-pain-anxiety", "id: locked", 1)
    # behind a cue that fires only under distress: an empathic learner never sees it
    text = text.replace('requires: ["acknowledged:dad_cue"]', 'requires: ["acknowledged:scared_explicit"]', 1)
    assert "acknowledged:scared_explicit" in text
    y.write_text(text)
    capsys.readouterr()
    assert main(["persona", "check", str(pack_dir)]) == 1
    assert "fear_like_father" in capsys.readouterr().out


def test_a_fact_referred_back_to_keeps_its_names_capitalised(engine):
    from server.realise.template import said_before

    assert said_before("March. Last time was Sunday.", engine.pack("angry-missed-followup")).startswith("Like I said, March.")
    assert said_before("Penicillin.", engine.pack("chest-pain-anxiety")) == "Like I said, penicillin."


def test_reflecting_a_worry_names_no_feeling():
    from server.core.emotions import named_emotions

    assert named_emotions("It sounds like you worry about being in the way.") == []
    assert named_emotions("You sound worried.") == [("worried", "fear")]


def test_a_plan_is_not_held_to_advice_or_reassurance_flags():
    from server.engine.state import empathy_signal

    g = Grade(grader_version="t", flags=["advice_before_exploring", "premature_reassurance"])
    assert empathy_signal(g, "plan") > 0 > empathy_signal(g, "explanation")


def test_a_plan_or_summary_is_not_graded_as_advice_or_reassurance(engine):
    from server.grading.base import GradeContext

    ctx = GradeContext(patient_turn="Okay.")
    for text in ("What I'd like to do is send the urgent referral myself today and ring you once it's confirmed.",
                 "So, to sum up, you've had the tightness for two weeks and it comes at night."):
        flags = set(engine.grader.grade(text, ctx).flags)
        assert not flags & {"advice_before_exploring", "premature_reassurance", "topic_switch", "dismissive"}, (text, flags)
    assert "premature_reassurance" in engine.grader.grade("Don't worry, we'll get you sorted.", ctx).flags


def test_a_follow_up_that_names_no_subject_is_read_with_the_question_before_it(engine):
    _, (first, follow) = play(engine, "chest-pain-anxiety", ["Do you smoke at all?", "And roughly how many a day?"])
    assert "smoking" in first.plan.facts
    assert "smoking" in follow.plan.facts, follow.reply


def test_a_follow_up_points_to_the_turns_own_words_before_the_last_topic(engine):
    """'...like that' after the learner's own sentence is about that sentence, not the fact the
    patient said last ('Like I said, no.' about smoking would be a wrong fact)."""
    _, (first, follow) = play(engine, "chest-pain-anxiety", [
        "Do you smoke at all?",
        "A lot of parents in your shoes lie awake thinking about their children's future. Is anything like that on your mind?"])
    assert "smoking" in first.plan.facts
    assert "smoking" not in follow.plan.facts, follow.reply


def test_a_question_sharing_only_a_generic_word_with_a_fact_gets_no_fact(engine):
    _, (r,) = play(engine, "chest-pain-anxiety", ["Do you keep any animals at home?"])
    assert r.plan.facts == [] and r.plan.uncovered in ("deny", "unsure"), r.reply


def test_a_question_in_an_empathic_turn_is_not_answered_with_an_unrelated_fact(engine):
    # the opening cue is pending, so the turn is graded as taking it up; it still asks something
    # the case does not cover, and must not be answered with the patient's job or family
    _, (r,) = play(engine, "diabetes-social-barriers", ["That sounds worrying. What sort of figures has the meter been showing?"])
    social = {f.id for f in engine.pack("diabetes-social-barriers").facts if f.category in ("social", "other")}
    assert not set(r.plan.facts) & social, r.reply


def test_a_gate_with_before_guarded_gives_the_guarded_answer_and_a_plain_gate_deflects(engine):
    pack = engine.pack("diabetes-social-barriers")
    transport, insurance = pack.fact("transport"), pack.fact("insurance")
    assert transport.gate.before == "guarded" and insurance.gate.before == "deflect"
    state, (a, b), _ = engine.play("diabetes-social-barriers", ["How do you usually get about?", "Are you covered by any health plan?"])
    assert state.emotional.trust < transport.gate.min_trust
    assert a.plan.facts == ["transport"] and transport.answers.guarded in a.reply
    assert b.plan.facts == [] and "insurance" in b.plan.deflected_facts


def test_a_pack_s_own_reactions_word_empathy_summaries_and_plans_and_do_not_repeat(engine):
    pack = engine.pack("chest-pain-anxiety")
    own = pack.reactions
    fear = [*own.empathy["fear"].guarded, *own.empathy["fear"].neutral, *own.empathy["fear"].open,
            *own.empathy["any"].guarded, *own.empathy["any"].neutral, *own.empathy["any"].open]
    _, results, _ = engine.play("chest-pain-anxiety", [
        "That sounds really frightening for you.",
        "I can see this has been weighing on you.",
        "It makes sense you'd be scared, anyone would be.",
        "That must be a lot to carry.",
        "So, to sum up, the tightness comes and goes and last night was the worst.",
        "What I'd like to do next is examine you and then repeat the heart tracing.",
    ])
    empathic = results[:4]
    assert all(r.act.value == "empathic_statement" for r in empathic), [r.act for r in empathic]
    # each reacts in the pack's words, unless the reply is full with what the patient goes on to say
    assert all(any(line in r.reply for line in fear) or r.plan.facts for r in empathic), [r.reply for r in empathic]
    said = [line for r in empathic for line in fear if line in r.reply]
    assert len(said) >= 2 and len(said) == len(set(said))  # not the same wording twice
    summary, plan = results[4], results[5]
    assert summary.act.value == "summary" and plan.act.value == "plan"
    reactions = {"summary": own.summary, "plan": own.plan}
    for r in (summary, plan):
        if r.act.value in reactions and not (r.plan.facts or r.plan.concern or r.plan.opportunity or r.plan.patient_question):
            band = reactions[r.act.value]
            assert any(line in r.reply for line in [*band.guarded, *band.neutral, *band.open]), r.reply


def test_a_pack_without_reactions_uses_the_built_in_wordings(engine):
    from server.realise import template as T

    pack = engine.pack("chest-pain-anxiety").model_copy(update={"reactions": type(engine.pack("chest-pain-anxiety").reactions)()})
    assert T.pack_reaction(pack, "empathy", "neutral", "fear") == []
    assert T.pack_reaction(engine.pack("chest-pain-anxiety"), "empathy", "neutral", "fear")
    assert T.pack_reaction(engine.pack("chest-pain-anxiety"), "empathy", "neutral", "guilt") == \
        engine.pack("chest-pain-anxiety").reactions.empathy["any"].neutral  # no guilt lines: the `any` band


def test_a_reaction_line_that_is_too_long_is_refused_with_its_place():
    from pydantic import ValidationError

    from server.persona.schema import Reactions

    with pytest.raises(ValidationError) as e:
        Reactions.model_validate({"summary": {"open": ["x" * 200]}})
    assert "summary" in str(e.value) and "160" in str(e.value)


@pytest.mark.parametrize("text,act", [
    ("Good afternoon, I'm Priya, one of the nurses. Thanks for coming in, take your time.", "greeting"),
    ("Right, thanks for coming in today, take care now.", "closing"),
    ("So if I've got it right, the pain started last week and it's worse at night. Is that right?", "summary"),
    ("What I'd like to do is take some bloods and see you again next week. How does that sound?", "plan"),
])
def test_welcomes_closings_and_checked_summaries_and_plans_are_their_own_acts(text, act):
    from server.engine.acts import classify

    assert classify(text)[0].value == act


def test_a_plan_that_checks_agreement_gets_a_reaction_not_a_denial(engine):
    pack = engine.pack("bereaved-daughter")
    _, (r,) = play(engine, "bereaved-daughter", ["What I'd like to do is see you again in two weeks and talk about sleep then. Does that sound okay?"])
    assert r.act.value == "plan" and r.plan.uncovered is None
    assert not any(line in r.reply for line in pack.uncovered.deny + pack.uncovered.unsure), r.reply


def test_asked_for_their_questions_the_patient_asks_one_or_says_that_is_all(engine):
    pack = engine.pack("chest-pain-anxiety")
    _, results, _ = engine.play("chest-pain-anxiety", ["Is there anything you'd like to ask me?"] + ["Any other questions?"] * 4)
    texts = {q.id: q.text for q in pack.patient_questions}
    first = results[0]
    assert first.plan.facts == [] and first.plan.patient_question in texts, first.reply
    assert texts[first.plan.patient_question] in first.reply
    # none left to ask: a content-free "that's everything", never a denial or a case fact
    last = results[-1]
    assert last.plan.facts == [] and last.plan.uncovered is None, last.reply
    assert not any(line in last.reply for line in pack.uncovered.deny + pack.uncovered.unsure)


def test_anything_else_gets_the_next_part_of_the_story(engine):
    state, (r,), _ = engine.play("chest-pain-anxiety", ["Anything else?"])
    assert r.plan.facts and r.plan.uncovered is None, r.reply


def test_a_lay_word_and_its_clinical_word_are_one_content_word(engine):
    index = engine.index(engine.pack("diabetes-social-barriers"))
    (word, stems), = index._concepts("Ever had surgeries?")
    assert word == "surgeries" and {"surger", "operation"} <= stems
    assert index._concepts("What kinds of things were you asking about?") == []  # function words in any form


def test_a_word_minilm_puts_next_to_the_fact_s_own_word_is_shared(engine):
    index = engine.index(engine.pack("bereaved-daughter"))
    assert index._near_words(["woken"])["woken"] & {"waking", "wake", "woke"}
    _, (r,) = play(engine, "bereaved-daughter", ["When you've woken early, what do you do?"])
    assert r.plan.facts == ["sleep"], r.reply


def test_a_question_about_two_subjects_shares_its_words_out(engine):
    _, (r,) = play(engine, "angry-missed-followup", ["Smoke, or drink?"])
    assert set(r.plan.facts) == {"smoking", "alcohol"}, r.reply
    _, (r,) = play(engine, "chest-pain-anxiety", ["Do you keep any animals at home?"])
    assert r.plan.facts == [], r.reply


def test_a_question_after_a_lead_in_and_a_colon_is_a_question_of_its_own(engine):
    _, (r,) = play(engine, "older-indirect-burden", ["Some background now: do you take any regular tablets, and do you have any allergies?"])
    assert {"medications", "allergies"} <= set(r.plan.facts), r.reply


def test_a_summary_that_checks_gets_no_fact(engine):
    _, results = play(engine, "older-indirect-burden", [
        "How are you sleeping?", "How is your appetite?",
        "Right, to sum up: you wake early, your appetite has been poor, with some weight loss and a heavy feeling after "
        "you eat. Is that right?"])
    assert results[-1].plan.facts == [], results[-1].reply


def test_a_longer_follow_up_with_few_content_words_is_read_with_the_question_before_it(engine):
    _, (_, r) = play(engine, "bereaved-daughter", ["Are you drinking at all?", "And how much would you say that comes to in a week?"])
    assert r.plan.facts == ["alcohol"], r.reply
    _, (_, r) = play(engine, "older-indirect-burden", ["How are you sleeping?", "So once you're up, do you manage to get back to sleep?"])
    assert r.plan.facts == ["sleep"], r.reply


def test_a_fact_close_behind_a_held_back_concern_is_still_answered(engine):
    _, (r,) = play(engine, "diabetes-social-barriers", ["Do you check your sugar levels yourself?"])
    assert "glucose_checks" in r.plan.facts, r.reply


def test_a_question_that_matches_nothing_alone_goes_on_with_the_last_fact_only_in_its_words(engine):
    _, (_, r) = play(engine, "diabetes-social-barriers", ["How often are you testing your sugar?", "What was your most recent reading?"])
    assert r.plan.facts == ["glucose_checks"], r.reply
    _, (_, r) = play(engine, "diabetes-social-barriers", ["How often are you testing your sugar?", "Do you keep any pets?"])
    assert r.plan.facts == [], r.reply


def test_lay_words_share_a_word_with_the_clinical_ones(engine):
    from server.engine.retrieval import _clinical
    assert _clinical("drinks") == "alcohol" and _clinical("indigestion") == "stomach"
    _, (r,) = play(engine, "older-indirect-burden", ["Any heartburn or indigestion?"])
    assert r.plan.facts == ["stomach"], r.reply
    _, (r,) = play(engine, "chest-pain-anxiety", ["Does it happen when you climb hills?"])
    assert r.plan.facts == ["exertion"], r.reply


def test_the_nearest_fact_a_little_under_the_threshold_answers_when_it_has_every_content_word(engine):
    _, (r,) = play(engine, "bereaved-daughter", ["Can you keep your mind on things at work?"])
    assert r.plan.facts == ["work"], r.reply
    _, (r,) = play(engine, "diabetes-social-barriers", ["Do you do any exercise?"])  # one word is not enough
    assert r.plan.facts == [], r.reply


def test_a_question_s_form_says_what_it_asks_for(engine):
    def first(pid, question):
        return [(m.kind, m.id) for m in engine.index(engine.pack(pid)).search(question).matches][:1]

    # when the presenting complaint began is the onset, not the complaint again
    assert first("angry-missed-followup", "Since when have you been seeing the blood?") == [("fact", "onset")]
    assert first("bereaved-daughter", "When did the early waking begin?") == [("fact", "onset")]
    # ... but how long for anything else is that thing's own fact
    assert first("chest-pain-anxiety", "How long have you smoked for?") == [("fact", "smoking")]
    # the patient's own ideas, whatever the words near "going on"
    assert first("older-indirect-burden", "What do you reckon it is?") == [("fact", "ideas_expectations")]
    assert first("chest-pain-anxiety", "What do you think might be behind the pain?") == [("fact", "ideas")]
    # a worry question asks for the worry, not the fact it mentions
    assert first("older-indirect-burden", "Your brother died of stomach cancer. Does that worry you, with your own stomach "
                                          "like this?") == [("concern", "cancer_fear")]


def test_asking_whether_they_worry_about_something_names_no_feeling():
    from server.core.emotions import named_emotions

    assert named_emotions("Do you ever worry you're a nuisance to them?") == []
    assert named_emotions("Are you worried?") == [("worried", "fear")]


def test_openings_in_other_styles_ask_for_the_presenting_complaint(engine):
    for opening in ("Where would you like to begin?", "Hello again. How have things been since we last met?",
                    "So what made you book in to see us?", "Right then, what's happened?", "Hi there. How's everything going?",
                    "Tell me about the problem in your own words.", "Could you put it in your own words for me?"):
        _, (r,) = play(engine, "chest-pain-anxiety", [opening])
        assert r.plan.facts[:1] == ["chest_tightness"], (opening, r.reply)
    # asked whole, not as the start of a question about something else
    _, (r,) = play(engine, "chest-pain-anxiety", ["What happened to your dad?"])
    assert "chest_tightness" not in r.plan.facts, r.reply
    _, (r,) = play(engine, "chest-pain-anxiety", ["Tell me about the problem with your smoking."])
    assert "chest_tightness" not in r.plan.facts, r.reply


def test_a_fact_far_ahead_of_every_other_item_answers_on_one_shared_lay_word(engine):
    _, (r,) = play(engine, "older-indirect-burden", ["How did you travel here this afternoon?"])
    assert r.plan.facts == ["transport"], r.reply
    _, (r,) = play(engine, "older-indirect-burden", ["Have your trousers got looser lately?"])
    assert r.plan.facts == ["appetite_weight"], r.reply


def test_the_first_fact_is_kept_over_budget_only_when_no_concern_takes_its_place():
    from server.engine.planner import facts_within_budget

    long_first = [("onset", 4), ("smoking", 1)]
    # no concern: the question gets its answer however long, and nothing more fits
    assert facts_within_budget(long_first, used=0, budget=3, first_always=True) == (["onset"], 4)
    # a concern already fills the turn: an over-budget fact is dropped, a short one still fits
    assert facts_within_budget(long_first, used=2, budget=3, first_always=False) == (["smoking"], 3)
    # within budget both are kept either way, and what they use is counted for the rest of the turn
    assert facts_within_budget([("a", 1), ("b", 1)], used=0, budget=3, first_always=False) == (["a", "b"], 2)


def test_apart_from_names_what_the_question_is_not_about(engine):
    def first(pid, question):
        return [m.id for m in engine.index(engine.pack(pid)).search(question).matches][:1]

    assert first("older-indirect-burden", "Other than your tummy, any other health problems?") == ["past_history"]
    assert first("chest-pain-anxiety", "Besides the pain in your chest, have you had any other symptoms with it?") == \
        ["associated_symptoms"]


def test_anything_else_with_a_subject_is_not_a_prompt_for_the_story():
    from server.engine.planner import _STORY

    assert _STORY.search("anything else?") and _STORY.search("is there anything else you'd like to tell me?")
    assert not _STORY.search("is there anything else you're being treated for?")
    assert not _STORY.search("what else do you take for it?")


def test_a_worry_question_a_little_under_the_threshold_takes_the_nearest_worry(engine):
    """A worry question with no subject of its own asks for the patient's worry (answered or held
    back as trust allows), not for nothing and not for a fact that mentions one."""
    pack = engine.registry.get("diabetes-social-barriers")
    found = engine.index(pack).search("Out of everything, what worries you the most?")
    assert found.matches and found.matches[0].kind == "concern", found.matches


@pytest.mark.parametrize("question,expect", [
    # written for this test, in wordings of our own: a request is a question; where and what it is
    # like ask for the complaint itself; "before" asks for the patient's own past, not the family's
    ("I'd like to go over the tablets you're on at the moment.", "medications"),
    ("Now, I need to run through what you take regularly, medicine-wise.", "medications"),
    ("Show me where you get it.", "chest_tightness"),
    ("What's the feeling like, can you describe it?", "chest_tightness"),
    ("Is this the first time you've had anything like it?", "past_history"),
    ("Had it before at all?", "past_history"),
    ("Any other medical stuff going on?", "past_history"),
    ("Why do you suppose the tightness has come on now, what's behind it?", "ideas"),
    ("What do you reckon is causing the tightness and the racing heart?", "ideas"),
])
def test_plain_history_questions_in_other_wordings_get_their_fact(engine, question, expect):
    _, (opening, r) = play(engine, "chest-pain-anxiety", ["When did it start?", question])
    assert r.plan.facts[:1] == [expect], (question, r.plan.facts, r.reply)


def test_a_family_history_question_is_not_answered_with_the_patients_own_past(engine):
    # the bereaved daughter's case has her own past depression and who is at home, and no family history
    _, (r,) = play(engine, "bereaved-daughter", ["Has anyone in your family ever had trouble with their nerves or depression?"])
    assert not {"past_depression", "past_history", "family_home"} & set(r.plan.facts), r.reply


def test_a_request_to_go_through_the_plan_is_not_a_history_question():
    assert classify("I'd like to run some blood tests today.")[0] == DialogueAct.plan
    assert classify("I'd like to run through your medicines.")[0] in (DialogueAct.open_question, DialogueAct.closed_question)


def test_a_welcome_before_the_question_does_not_hide_its_subject(engine):
    """"Good morning, I'm Dr Patel." names no subject; its words outnumbered the question's own,
    so "Tell me about the pain." after it was answered "I'm not sure"."""
    for turn in ("Good morning, I'm Dr Patel. Tell me about the pain.",
                 "Hello, I'm Sam, one of the doctors. Please have a seat. Can you tell me about the pain?"):
        _, (r,) = play(engine, "chest-pain-anxiety", [turn])
        assert r.plan.facts[:1] == ["chest_tightness"], (turn, r.reply)


def test_the_patient_knows_their_own_age_and_name(engine):
    """Age and name live in the pack's identity, not its facts: "How old are you?" got "I'm not sure"."""
    pack = engine.pack("chest-pain-anxiety")
    _, results = play(engine, "chest-pain-anxiety", ["How old are you?", "Sorry, what's your first name?", "How old are you, and do you smoke?"])
    age, name, both = results
    assert f"I'm {pack.identity.age}." in age.reply and age.plan.uncovered is None, age.reply
    assert "Daniel" in name.reply and "Mr " not in name.reply, name.reply
    assert str(pack.identity.age) in both.reply and "smoking" in both.plan.facts, both.reply
    _, (dad,) = play(engine, "chest-pain-anxiety", ["How old was your father when he died?"])
    assert dad.plan.identity is None, dad.reply


def test_what_is_troubling_you_asks_for_the_story_and_bp_is_blood_pressure(engine):
    """"What is it that's been troubling you lately?" opens like "what brings you in" (it got "I'm
    not sure"); "BP" said aloud is blood pressure; "what's been worrying you" still asks for a worry."""
    _, (opening,) = play(engine, "older-indirect-burden", ["Thank you for coming in. What is it that's been troubling you lately?"])
    assert opening.plan.facts and opening.plan.uncovered is None, opening.reply
    _, (bp,) = play(engine, "chest-pain-anxiety", ["BP ever checked?"])
    assert bp.plan.facts == ["past_history"], bp.reply
    _, (worry,) = play(engine, "older-indirect-burden", ["What's been worrying you?"])
    assert not worry.plan.facts, worry.reply


def test_a_chatty_question_is_answered_from_the_two_words_that_carry_it(engine):
    """Most of its words are small talk, but "glass" and "wine" are the alcohol fact's own and no
    other item's: it is answered, not met with a worry volunteered in its place."""
    _, (r,) = play(engine, "bereaved-daughter",
                   ["You know, many folk find the odd glass of wine at night takes the edge off. Anything like that for you?"])
    assert r.plan.facts == ["alcohol"], r.reply


def test_a_suggested_plan_checked_with_the_patient_is_a_plan():
    """A plan offered as a suggestion and checked ("... How does that sound?") gets a reaction to
    the plan; read as an empathic statement it drew an earlier reply word for word."""
    assert classify("What I'd suggest is that we agree a plan for your sleep together. How does that sound?")[0] == DialogueAct.plan
    assert classify("I'd suggest we see how the new tablets go over a fortnight. Does that sound okay?")[0] == DialogueAct.plan
    assert classify("I'd like to see you again in a fortnight.")[0] == DialogueAct.plan
    assert classify("What would you suggest we do?")[0] != DialogueAct.plan


def test_a_worry_already_told_and_asked_again_is_referred_back_to(engine):
    """Asked again about a worry told earlier, the patient says "Like I said, ..." (it got "I'm
    not sure"), and the worry is not counted as revealed twice."""
    from server.engine.retrieval import Match
    from server.realise.template import TemplateRealiser
    pack = engine.pack("chest-pain-anxiety")
    concern = pack.hidden_concerns[0]
    state, _ = engine.start("chest-pain-anxiety")
    state.revealed_concerns.append(concern.id)
    state.history.append(("learner", "Is that what's worrying you most, what happened to your dad?"))
    grade = Grade(grader_version="t", question_type="closed", eccs=4, nurse=["explore"])
    plan, after = plan_turn(pack, state, DialogueAct.closed_question, grade, SearchResult([Match("concern", concern.id, 0.8)], 0.0), 0.0)
    assert plan.concern == concern.id and plan.repeated_concern and plan.uncovered is None
    assert after.revealed_concerns.count(concern.id) == 1
    reply = TemplateRealiser().realise(pack, plan, after)
    assert reply.startswith("Like I said") and reply != concern.disclosure, reply


def test_a_warm_question_is_answered_before_a_ready_worry_is_volunteered(engine):
    """Engaged and asked a plain question: the asked fact is said; a worry whose gate is open
    comes with it only when it fits, never in its place."""
    from server.engine.retrieval import Match
    pack = engine.pack("bereaved-daughter")
    state, _ = engine.start("bereaved-daughter")
    state.emotional.trust = 1.0  # the gate of the worry about sending him in is open
    state.explored.append("anger_opening")
    state.disclosed_facts.append("father_death")
    state.history.append(("learner", "What would you like to get out of today's appointment?"))
    grade = Grade(grader_version="t", question_type="open", eccs=4, nurse=["explore"])
    found = SearchResult([Match("fact", "expectations", 0.8)], 0.8)
    plan, _ = plan_turn(pack, state, DialogueAct.open_question, grade, found, 0.0)
    assert plan.facts == ["expectations"], plan
    assert plan.concern is None, "a four-sentence worry does not fit beside a five-sentence answer: it waits"


@pytest.mark.parametrize("pid,question,expect", [
    # slang the embedder does not place, in wordings written for this test
    ("angry-missed-followup", "Any bother with the waterworks apart from that?", "pain_urinary"),
    ("angry-missed-followup", "Partial to a tipple of an evening?", "alcohol"),
    ("chest-pain-anxiety", "You on the ciggies these days?", "smoking"),
])
def test_slang_is_read_plainly(engine, pid, question, expect):
    _, (r,) = play(engine, pid, [question])
    assert expect in r.plan.facts, (question, r.plan.facts, r.reply)


def test_a_follow_up_visit_opening_asks_for_the_presenting_complaint_and_is_no_topic_switch(engine):
    # our own wording: the diabetes patient opens with a cue; a welcome back is an invitation, not a switch
    _, (r,) = play(engine, "diabetes-social-barriers", ["Nice to see you again. How have you been keeping since your last appointment?"])
    pack = engine.pack("diabetes-social-barriers")
    assert r.plan.facts and r.plan.facts[0] in (pack.visit.presenting, "glucose_checks"), r.reply
    assert "topic_switch" not in r.grade.flags and (r.grade.eccs or 0) >= 2, r.grade


def test_an_apology_that_owns_the_failure_raises_the_angry_patients_trust(engine):
    # our own wording; the case's learning objective: a specific apology is respect, not a dismissal
    state, (r,), _ = engine.play("angry-missed-followup", ["I'm really sorry the hospital never got your referral. That shouldn't have happened."])
    base = engine.pack("angry-missed-followup").emotion.baseline.trust
    assert not {"dismissive", "premature_reassurance"} & set(r.grade.flags), r.grade
    assert state.emotional.trust >= base, state.emotional


def test_what_can_we_do_for_you_is_an_invitation_not_a_topic_switch(engine):
    _, (r,) = play(engine, "angry-missed-followup", ["Hello Mr Holt, have a seat. What can we do for you this afternoon?"])
    assert "topic_switch" not in r.grade.flags and (r.grade.eccs or 0) >= 2, r.grade


@pytest.mark.parametrize("pid,lines,fact", [
    ("angry-missed-followup", ["Partial to a pint now and then?"], "alcohol"),
    ("angry-missed-followup", ["Have you ever smoked?", "And when did you knock it on the head?"], "smoking"),
    ("bereaved-daughter", ["Tossing and turning at night?"], "sleep"),
    ("chest-pain-anxiety", ["Is your job piling on the pressure?"], "work_stress"),
])
def test_everyday_idioms_for_drink_quitting_sleep_and_stress_find_their_fact(engine, pid, lines, fact):
    """Idioms MiniLM places far from what they mean, written plainly first (retrieval._PLAIN; the
    project's own list and wordings, not from any bank or pack)."""
    _, results = play(engine, pid, lines)
    assert fact in results[-1].plan.facts, (pid, lines, results[-1].reply)


@pytest.mark.parametrize("pid,question,concern", [
    ("bereaved-daughter", "You'd gone home that night. Do you feel guilty about that?", "guilt_went_home"),
    ("older-indirect-burden", "You wake at four and lie there. What goes through your mind?", "better_gone"),
])
def test_a_worry_asked_after_a_remark_is_about_the_worry_not_the_fact_recalled(engine, pid, question, concern):
    """A remark that recalls a fact, then a question about guilt or what goes through the
    patient's mind: the worry is what is asked (held back at this trust), not the fact the remark
    recalls (before: who lives at home; the sleep pattern). Written for this test."""
    _, (r,) = play(engine, pid, [question])
    assert not r.plan.facts and r.plan.deflected_facts == [concern], (pid, question, r.plan)


@pytest.mark.parametrize("lines", [
    ["Does anything else go on when you get one?"],
    ["Is it worse when you walk uphill?", "Ever been sick with one?"],
    ["How long do they last?", "Does something else happen while it's there?"],
])
def test_what_else_comes_with_the_complaint_asks_for_the_associated_symptoms(engine, lines):
    """'Anything else ... when you get it' and a symptom asked 'with one' ask what comes with the
    complaint (phrasings.FORMS), not when it began or what brings it on. Written for this test;
    each got another fact or "no idea" before."""
    _, results = play(engine, "chest-pain-anxiety", lines)
    assert results[-1].plan.facts == ["associated_symptoms"], (lines, results[-1].reply)


def test_what_sets_the_complaint_off_or_settles_it_asks_for_its_triggers(engine):
    """'Does anything bring it on, or settle it down?' asks what sets it off (phrasings.FORMS), not
    when it began, which 'bring it on' sounds like to MiniLM (before: the onset). Our wording."""
    _, (r,) = play(engine, "angry-missed-followup", ["Does anything bring it on, or settle it down?"])
    assert r.plan.facts == ["triggers"], r.reply


@pytest.mark.parametrize("question", ["Are you using your insulin as prescribed?", "Any doses of insulin missed this month?"])
def test_a_question_on_taking_the_medicines_as_meant_is_not_answered_with_the_list(engine, question):
    """In the case whose patient rations her insulin, asking whether she takes it as meant touches
    that worry (held back at this trust): not the medicine list (before), nor a flat "no" that
    the case contradicts. Written for this test."""
    _, (r,) = play(engine, "diabetes-social-barriers", [question])
    assert not r.plan.facts and r.plan.deflected_facts == ["rationing_insulin"], (question, r.reply)


def test_a_question_on_taking_the_medicines_in_a_case_without_such_a_worry_still_gets_the_list(engine):
    _, (r,) = play(engine, "chest-pain-anxiety", ["Do you ever forget to take your tablets?"])
    assert r.plan.facts == ["medications"], r.reply


def test_a_question_on_a_phrase_of_the_answer_just_given_goes_on_with_that_fact(engine):
    """Right after the onset, whose answers speak of last night, "Tell me about last night." asks
    more of that fact (before: "No idea"). Our wording."""
    _, results = play(engine, "chest-pain-anxiety", ["When did this all start?", "Tell me about last night."])
    assert results[-1].plan.facts == ["onset_timing"], results[-1].reply
