"""Plan what the patient may say this turn: only pack content whose gate is open.

The plan is the sole source of case facts for every realiser, which is how Bedside keeps
the patient from inventing facts or being "too cooperative".
"""

from __future__ import annotations

import re

from ..core.text import split_sentences, written
from ..core.types import ContentPlan, DialogueAct, SessionState, answer_style
from ..grading.base import Grade
from ..persona.schema import Gate, PersonaPack, Trigger
from .phrasings import WORRY as _WORRY
from .retrieval import NEAR_THRESHOLD, Match, SearchResult
from .risk import risk_kind

RAISE_AGAIN_DISTRESS = 0.6   # re-raise an unacknowledged cue when distress is at least this
RAISE_AGAIN_AFTER = 3        # ... and it was last raised this many turns ago or more
MAX_RAISES = 2               # a cue is said at most twice: a person hints, then lets it go
MAX_FACTS_PER_TURN = 2
OPENS_UP = ("social", "ideas", "other", "family")  # what a listened-to patient goes on to talk about
# Core history a patient gives any clinician who asks, however guarded: a closed gate only keeps
# the answer to its guarded wording (as `gate.before: guarded` does for any other fact).
CORE_CATEGORIES = frozenset({"medication", "history", "family"})
_STORY = re.compile(r"\b(what brings you|what's (been )?(going on|the problem|happening|up)|what is the problem|how can i help|what can i do for you|"
                    r"tell me (a (bit|little) )?(more|about (it|this|that|what|how))|talk me through|what happened|go on|"
                    # "Anything else?", "Anything else you'd like to tell me?", not "anything else you're treated for?"
                    r"(anything|what) else(?=\s*(?:[?.!,]|$|(?:that )?(?:you(?:'d| would)? (?:like|want) to|i should|we should|to) "
                    r"(?:tell|mention|add|say|know|share|talk)|(?:is |has been )?(?:going on|happening|on your mind|bothering you|"
                    r"worrying you)|you(?:'ve| have) noticed)))\b")
_FEELING = re.compile(r"\b(feel\w*|felt|cop(e|ing)|getting (you|to you) down|down|low|worr\w*|scar\w*|afraid|fright\w*|mood|upset|"
                      r"stress\w*|angry|anger|sad\w*|guilt\w*|lonely|alone|overwhelm\w*|on your mind|going through)\b")
_ASK_ME = re.compile(r"\b(any (other |more |further )?questions|anything (else )?(you'd|you would|you) (like|want) to (ask|know)|"
                     r"(what|which) questions do you have|anything (else )?i can (help with|answer|explain))\b")
_HOW_ARE_YOU = re.compile(r"\bhow are you( (doing|keeping|getting on))?( today)?\??$")
# the patient's own age and name are in the pack's identity, not its facts; a person knows them
_IDENTITY_ASKED = {
    "age": re.compile(r"\bhow old are you\b|\bwhat('s| is) your age\b|\byour age\b[^.?!]{0,20}\?"),
    "name": re.compile(r"\bwhat('s| is) your (full |first )?name\b|\b(tell me|confirm|give me|remind me of) your (full |first )?name\b|"
                       r"\bwhat (should|shall|do) i call you\b"),
}
_YES_NO = re.compile(r"^\s*(and\s+|so\s+|okay,?\s+)?(do|does|did|have|has|had|is|are|was|were|any|anything|ever|can|could)\b")


def gate_open(gate: Gate, s: SessionState) -> bool:
    if s.emotional.trust < gate.min_trust:
        return False
    for req in gate.requires:
        kind, ref = req.split(":", 1)
        pool = {"acknowledged": s.acknowledged, "explored": s.explored, "disclosed": s.disclosed_facts}[kind]
        if ref not in pool:
            return False
    return True


def _fires(trig: Trigger, s: SessionState) -> bool:
    if trig.on == "turn":
        return s.turn_index >= (trig.turn or 0)
    if trig.on == "fact":
        # from the turn its fact is said on: a cue that did not fit then waits for a later turn
        return trig.fact in s.disclosed_facts
    if trig.on == "distress":
        return s.emotional.distress >= (trig.distress or 1.0)
    return False


def facts_within_budget(costed: list[tuple[str, int]], used: int, budget: int, *, first_always: bool) -> tuple[list[str], int]:
    """The facts (id, sentences) that fit the sentence budget after `used`, in order, and the
    sentences used with them (what comes later in the turn fits in the rest). With
    `first_always`, the first fact is kept even when its answer alone is over budget: a question
    is answered, at length if need be; a disclosed concern takes that place instead."""
    kept: list[str] = []
    for fid, cost in costed:
        if (first_always and not kept) or used + cost <= budget:
            kept.append(fid)
            used += cost
    return kept, used


def _n(text: str) -> int:
    return len(split_sentences(text))


def plan_turn(pack: PersonaPack, s: SessionState, act: DialogueAct, grade: Grade, found: SearchResult,
              signal: float) -> tuple[ContentPlan, SessionState]:
    """The turn's plan, and the session state after it: `s` with what the plan discloses, raises
    and asks recorded. `s` itself is left as it was.

    Content is budgeted in sentences (the persona's max_reply_sentences) here, not in the
    realiser, so what the state records as disclosed or raised is exactly what is said.
    """
    asked = _learner_turn(s)
    invites_questions = bool(_ASK_ME.search(asked.lower().replace("’", "'")))
    plan, used = _answer(pack, s, act, grade, found, invites_questions)
    after = _disclosed(s, plan)
    used = _raise_opportunity(pack, after, plan, used)
    after = _raised(after, plan)
    _ask_back(pack, after, plan, used, invites_questions)
    if invites_questions and not plan.patient_question and not (plan.facts or plan.concern or plan.risk):
        plan.act = "questions_invited"  # nothing left to ask: "No, I think that's everything."
    if signal >= 0.4:
        plan.acknowledgement = "warm"
    elif signal <= -0.3:
        plan.acknowledgement = "cool"
    return plan, after


def _risk_fact(pack: PersonaPack, kind: str | None, s: SessionState) -> str | None:
    """The pack's fact named for the risk asked (a `self_harm` fact), when its gate is open."""
    fact = next((f for f in pack.facts if f.id == kind), None) if kind else None
    return fact.id if fact is not None and gate_open(fact.gate, s) else None


def _answer(pack: PersonaPack, s: SessionState, act: DialogueAct, grade: Grade, found: SearchResult,
            invites_questions: bool) -> tuple[ContentPlan, int]:
    """What the reply says to the turn itself (facts, a concern, a risk answer, a deflection or
    "I'm not sure"), and the sentences that takes."""
    plan = ContentPlan(style=s.emotional.style, emotion=s.emotional.emotion, act=act.value, turn_index=s.turn_index)
    budget = pack.emotion.max_reply_sentences
    matches = found.matches
    plan.greeting = act == DialogueAct.greeting
    plan.closing = act == DialogueAct.closing
    if grade.empathic_accuracy is False and grade.named_emotion:
        plan.correction = grade.named_emotion
        opp = pack.opportunity(s.pending_opportunity) if s.pending_opportunity else None
        plan.correction_to = opp.emotion.value if opp else pack.emotion.primary.value

    asked = _learner_turn(s)
    plan.risk = risk_kind(asked) or next((m.id for m in matches if m.kind == "risk"), None)
    risk_asked = plan.risk is not None
    matches = [m for m in matches if m.kind != "risk" and not (plan.risk and m.kind == "fact")]  # the risk answer replaces facts
    if (own := _risk_fact(pack, plan.risk, s)) is not None:
        # the case's own fact on this risk ("self_harm") answers it: the same answer in the style
        # the patient's trust allows, and its disclosure ticks the checklist's risk item
        matches = [Match("fact", own, 1.0)]
    if (grade.question_type == "none" or act == DialogueAct.summary) and not risk_asked:
        matches = []  # statements do not ask for facts, nor does a summary's "Is that right?"; questions (and "tell me ...") do
    if invites_questions and not risk_asked:
        matches = []  # "Anything else you'd like to ask?" is not "Anything else?" about the case
    low = asked.lower().replace("’", "'")
    plan.identity = next((kind for kind, rx in _IDENTITY_ASKED.items() if rx.search(low)), None)
    engaged = (grade.eccs or 0) >= 3 or "explore" in grade.nurse or bool(grade.nurse and not grade.flags)
    told = None  # a worry told on an earlier turn and asked about again
    for m in matches:
        if m.kind == "fact":
            fact = pack.fact(m.id)
            if gate_open(fact.gate, s) or fact.category in CORE_CATEGORIES or fact.gate.before == "guarded":
                if len(plan.facts) < MAX_FACTS_PER_TURN:
                    plan.facts.append(m.id)
                    if not gate_open(fact.gate, s):
                        plan.guarded_facts.append(m.id)
            else:
                plan.deflected_facts.append(m.id)
        elif m.kind == "concern" and m.id in s.revealed_concerns:
            told = told or m.id
        elif m.kind == "concern":
            if gate_open(pack.concern(m.id).gate, s):
                plan.concern = m.id
            else:
                plan.deflected_facts.append(m.id)
    volunteered = None
    if plan.concern is None and engaged:
        volunteered = next((c.id for c in pack.hidden_concerns if c.id not in s.revealed_concerns and gate_open(c.gate, s)), None)
        if not plan.facts:
            plan.concern, volunteered = volunteered, None
    used = (1 if plan.correction else 0) + (1 if plan.identity else 0) + (_n(pack.concern(plan.concern).disclosure) if plan.concern else 0) \
        + (_n(getattr(pack.risk, plan.risk)) if plan.risk and own is None else 0)
    plan.facts, used = facts_within_budget([(fid, _n(getattr(pack.fact(fid).answers, answer_style(plan, fid)))) for fid in plan.facts],
                                     used, budget, first_always=not plan.concern)
    if volunteered is not None and used + _n(pack.concern(volunteered).disclosure) <= budget:
        # a question asked warmly is answered first; a worry ready to be told comes after it when
        # it fits, else on a later warm turn ("What were you hoping for today?" gets the hopes)
        plan.concern = volunteered
        used += _n(pack.concern(volunteered).disclosure)
    if plan.concern is None and told is not None and not plan.facts:
        # asked again about a worry already told: "Like I said, ...", not "I'm not sure"
        plan.concern, plan.repeated_concern = told, True
        used += 1

    # an empathic turn can ask too ("What do you make of it?" after a cue): it still wants an answer
    asked_something = act in (DialogueAct.open_question, DialogueAct.closed_question) or (
        grade.question_type != "none" and act in (DialogueAct.empathic_statement, DialogueAct.explanation, DialogueAct.advice,
                                                  DialogueAct.other))  # a summary's "Is that right?" checks, it does not ask
    question = _last_question(grade, s)
    if invites_questions:
        asked_something = False  # "Anything you'd like to ask?" hands over the floor; the pack holds no answer to it
    plan.asked = asked_something
    nothing = not (plan.facts or plan.concern or plan.risk or plan.identity or plan.deflected_facts)
    about_feelings = bool(_FEELING.search(question))
    if asked_something and nothing and (not engaged or (grade.question_type == "closed" and not about_feelings)):
        if _STORY.search(question):  # "Tell me more", "Anything else?": the next part of the story
            used += _tell_next(pack, s, plan)
        if not plan.facts:
            # deny only what is clearly outside the pack; a near miss may be a pack fact
            clear_miss = found.best_fact_score < NEAR_THRESHOLD
            plan.uncovered = "deny" if _YES_NO.match(question) and clear_miss else "unsure"
            used += 1
    if plan.deflected_facts and not plan.facts and not plan.concern:
        used += 1
    nothing = not (plan.facts or plan.concern or plan.risk or plan.identity or plan.deflected_facts or plan.uncovered)
    if nothing and asked_something and _WORRY.search(question):
        # asked what worries them, with no worry ready to be said: a person holds it back ("I try
        # not to think about it"), not talk about their job
        # the worry nearest what was asked, else the first the pack lists
        order = [*found.concerns_by_nearness, *(c.id for c in pack.hidden_concerns)]
        held = next((cid for cid in order if cid not in s.revealed_concerns), None)
        if held is not None:
            plan.deflected_facts.append(held)
            used += 1
            nothing = False
    invited = bool(_STORY.search(question)) and not invites_questions  # "Do you want to tell me about it?" too
    told = act == DialogueAct.empathic_statement and grade.question_type == "none"
    if engaged and nothing and invited and not about_feelings:
        used += _tell_next(pack, s, plan)  # listened to and invited to tell it, as when not engaged
        nothing = not plan.facts
    if engaged and nothing and (told or invited or about_feelings):
        # listened to, with nothing asked: a person goes on about their life, not "Okay."
        nxt = next((f for cat in OPENS_UP for f in pack.facts
                    if f.category == cat and f.id not in s.disclosed_facts and gate_open(f.gate, s)), None)
        if nxt is not None and used + _n(getattr(nxt.answers, plan.style)) <= budget:
            plan.facts.append(nxt.id)
            used += _n(getattr(nxt.answers, plan.style))
    elif engaged and nothing and asked_something and _HOW_ARE_YOU.search(question):
        plan.greeting = True  # "How are you doing?" in a welcome is a greeting, not a question about the case
    elif engaged and nothing and asked_something:
        plan.uncovered = "unsure"  # asked warmly about something the case does not hold
        used += 1
    return plan, used


def _disclosed(s: SessionState, plan: ContentPlan) -> SessionState:
    """`s` with the plan's facts and concern recorded as said (a fact said before is a repeat)."""
    plan.repeated_facts = [f for f in plan.facts if f in s.disclosed_facts]
    return s.model_copy(deep=True, update={
        "disclosed_facts": [*s.disclosed_facts, *(f for f in plan.facts if f not in s.disclosed_facts)],
        "revealed_concerns": [*s.revealed_concerns, *([plan.concern] if plan.concern and not plan.repeated_concern else [])]})


def _raise_opportunity(pack: PersonaPack, s: SessionState, plan: ContentPlan, used: int) -> int:
    """Choose an opportunity to raise, if it fits: a trigger firing now (facts said this turn
    count), else an unacknowledged cue under high distress. Returns the sentences used."""
    if plan.closing:
        return used
    budget = pack.emotion.max_reply_sentences
    for opp in pack.empathic_opportunities:
        if opp.id not in s.raised_opportunities and _fires(opp.trigger, s):
            if used + _n(opp.line) <= budget:
                plan.opportunity = opp.id
            break  # one that fires but does not fit waits for a later turn
    if plan.opportunity is None and s.unanswered_cues and s.emotional.distress >= RAISE_AGAIN_DISTRESS:
        again = [o for o in s.unanswered_cues if s.times_raised.get(o, 1) < MAX_RAISES]
        oid = again[0] if again else None
        fits = oid is not None and used + _n(pack.opportunity(oid).line) <= budget
        if fits and s.turn_index - s.raised_at.get(oid, 0) >= RAISE_AGAIN_AFTER and plan.concern is None:
            plan.opportunity = oid
    return used + (_n(pack.opportunity(plan.opportunity).line) if plan.opportunity else 0)


def _raised(s: SessionState, plan: ContentPlan) -> SessionState:
    """`s` with the plan's opportunity recorded as raised, unanswered and pending."""
    new = s.model_copy(deep=True, update={"pending_opportunity": plan.opportunity})
    oid = plan.opportunity
    if oid:
        if oid not in new.raised_opportunities:
            new.raised_opportunities.append(oid)
        if oid not in new.unanswered_cues:
            new.unanswered_cues.append(oid)
        new.raised_at[oid] = new.turn_index
        new.times_raised[oid] = new.times_raised.get(oid, 0) + 1
    return new


def _ask_back(pack: PersonaPack, s: SessionState, plan: ContentPlan, used: int, invites_questions: bool) -> None:
    """A question the patient asks in turn, when one is due (or invited) and fits; recorded in
    `s`, the state this turn produces."""
    if plan.closing or plan.opportunity is not None:
        return
    for q in pack.patient_questions:
        if q.id not in s.asked_questions and (_fires(q.trigger, s) or invites_questions) and used + _n(q.text) <= pack.emotion.max_reply_sentences:
            plan.patient_question = q.id
            s.asked_questions.append(q.id)
            return


def _tell_next(pack: PersonaPack, s: SessionState, plan: ContentPlan) -> int:
    """Invited to tell the story: add the next fact not yet said whose gate is open; returns
    the sentences it costs (0 when the story is told)."""
    nxt = next((f for f in pack.facts if f.id not in s.disclosed_facts and gate_open(f.gate, s)), None)
    if nxt is None:
        return 0
    plan.facts.append(nxt.id)
    return _n(getattr(nxt.answers, plan.style))


def _learner_turn(s: SessionState) -> str:
    """The learner's last words as retrieval reads them (spoken contractions written out)."""
    return written(s.history[-1][1]) if s.history and s.history[-1][0] == "learner" else ""


def _last_question(grade: Grade, s: SessionState) -> str:
    text = _learner_turn(s)
    qs = [q for q in split_sentences(text.lower()) if q.endswith("?")]
    return qs[-1] if qs else text.lower()
