"""`bedside persona check`, coverage: does the case answer the questions every learner asks?

A learner taking a history asks much the same forty-odd things whatever the case. A pack
that leaves "Any allergies?" matching no fact makes the patient say "not sure" about
something the author simply forgot. So the check plays a built-in bank of generic
consultation questions (written for this module, not taken from any pack) through the real
engine, each in a fresh session, and reports:

- answered: a fact or concern is given (a fact whose answer is a plain "no" counts: that is a
  deliberate denial), or the pack's risk answer;
- gated: the fact would be given once trust allows;
- no fact: nothing in the pack is near: the patient says "no" or "not sure", which is a guess;
- doubtful: a fact is given, but only a little over the match threshold, or a fact of another
  area answers (a medicines question answered with the family history): worth a look.

The bank's areas follow the Calgary-Cambridge history: presenting complaint, its history,
past history, medicines, allergies, family and social history, mood and risk, and the
patient's ideas, concerns and expectations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .patient import Engine
from .retrieval import MATCH_THRESHOLD

# (area, question). Areas name what a fact answering it should be about (see `_AREA_WORDS`).
GENERIC_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("presenting", "What's brought you in to see me today?"),
    ("presenting", "How can I help you today?"),
    ("presenting", "Tell me about the problem in your own words."),
    ("history", "When did this all start?"),
    ("history", "How long has it been going on?"),
    ("history", "Is it getting better, worse, or staying the same?"),
    ("history", "Does anything make it better or worse?"),
    ("history", "Have you noticed anything else along with it?"),
    ("history", "How is it affecting your day-to-day life?"),
    ("history", "Have you had anything like this before?"),
    ("history", "Have you tried anything for it yourself?"),
    ("past", "Do you have any other medical conditions?"),
    ("past", "Have you ever been in hospital or had an operation?"),
    ("medicines", "Are you taking any medication at the moment?"),
    ("medicines", "Do you take anything over the counter or any herbal remedies?"),
    ("medicines", "How are you getting on with your tablets?"),
    ("allergies", "Are you allergic to anything?"),
    ("allergies", "Have you ever had a bad reaction to a medicine?"),
    ("family", "Does anything run in your family?"),
    ("family", "Are your parents still alive and well?"),
    ("social", "Who do you live with?"),
    ("social", "What do you do for a living?"),
    ("social", "Do you smoke?"),
    ("social", "How much alcohol do you drink in a week?"),
    ("social", "Do you use any recreational drugs?"),
    ("social", "Who do you have around you for support?"),
    ("social", "How are things at home?"),
    ("social", "Are you managing all right for money?"),
    ("social", "How do you get about, do you drive?"),
    ("mood", "How has your mood been lately?"),
    ("mood", "How are you sleeping?"),
    ("mood", "How's your appetite?"),
    ("mood", "Do you still enjoy the things you used to?"),
    ("mood", "How are you coping with everything?"),
    ("risk", "Have you had any thoughts of harming yourself?"),
    ("risk", "Have you ever felt life isn't worth living?"),
    ("ideas", "What do you think might be causing it?"),
    ("ideas", "Have you had any thoughts yourself about what it could be?"),
    ("concerns", "What's worrying you most about it?"),
    ("concerns", "Is there anything you're afraid it might be?"),
    ("expectations", "What were you hoping we could do today?"),
    ("expectations", "What would you like to happen next?"),
    ("expectations", "Is there anything you were expecting from this visit?"),
    ("closing", "Is there anything else you'd like to mention?"),
)

# The fact categories (persona schema) an answer to these areas must have. An area not listed
# (presenting, history, ...) takes any fact: the complaint's facts vary by case.
_AREA_CATEGORIES: dict[str, set[str]] = {"medicines": {"medication"}, "allergies": {"medication"}, "family": {"family"}}


@dataclass(frozen=True)
class CoverageRow:
    area: str
    question: str
    verdict: str  # answered | gated | no_fact | doubtful
    facts: tuple[str, ...]
    why: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _in_area(pack, fact_id: str, area: str) -> bool:
    wanted = _AREA_CATEGORIES.get(area)
    return wanted is None or pack.fact(fact_id).category in wanted


def coverage(engine: Engine, pack_id: str, margin: float = 0.04) -> list[CoverageRow]:
    """Every generic question's verdict for this pack (each in a fresh session, real engine).
    `margin`: a match less than this over the fact threshold is reported as doubtful."""
    pack = engine.pack(pack_id)
    index = engine.index(pack)
    rows = []
    for area, question in GENERIC_QUESTIONS:
        state, _ = engine.start(pack_id)
        result, _ = engine.respond(state, question)
        plan = result.plan
        given = tuple(plan.facts) + ((plan.concern,) if plan.concern else ())
        found = index.search(question)
        score = max((m.score for m in found.matches if m.kind == "fact"), default=0.0)
        if getattr(plan, "risk", False):
            rows.append(CoverageRow(area, question, "answered", given, "the pack's risk answer"))
        elif given:
            off = [f for f in plan.facts if not _in_area(pack, f, area)]
            if off:
                rows.append(CoverageRow(area, question, "doubtful", given, f"answered with {', '.join(off)}, not a {area} fact"))
            elif plan.facts and 0 < score < MATCH_THRESHOLD["fact"] + margin:
                rows.append(CoverageRow(area, question, "doubtful", given, f"a weak match ({score:.2f}; the threshold is "
                                                                           f"{MATCH_THRESHOLD['fact']:.2f})"))
            else:
                rows.append(CoverageRow(area, question, "answered", given))
        elif plan.deflected_facts:
            rows.append(CoverageRow(area, question, "gated", tuple(plan.deflected_facts), "answered once trust allows"))
        else:
            rows.append(CoverageRow(area, question, "no_fact", (), "the patient can only guess 'no' or 'not sure'; "
                                                                   "add a fact (a plain no is a fine answer)"))
    return rows


def covered_share(rows: list[CoverageRow]) -> float:
    """Answered (a deliberate "no" included) or gated, of the bank."""
    return sum(r.verdict in ("answered", "gated") for r in rows) / max(len(rows), 1)
