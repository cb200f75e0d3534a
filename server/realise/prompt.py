"""The chat prompt a model realiser sends: who the patient is, how they feel, what was
said, and the planned words to say now.

Small models invent relatives and slip into the third person when asked to "word a plan",
so the prompt does not describe the plan: it hands over the planned pack lines verbatim
("Say: ...") and asks for them in the patient's own voice, adding nothing. The recent
dialogue goes in as earlier turns of the same exchange (the patient's actual replies),
which doubles as worked examples; two neutral examples come first for the opening turns.
"""

from __future__ import annotations

from ..core.emotions import ADJECTIVE
from ..core.types import ContentPlan, SessionState
from ..persona.schema import PersonaPack

HISTORY_EXCHANGES = 3

# Worked examples with no case content (the grounding check rejects any of it that leaks).
EXAMPLES = (
    ("How have you been?", "Not great. I am tired of all this. Can we get on with it?",
     "Not great, honestly. I'm tired of all this. Can we get on with it?"),
    ("Is there anything else?", "No. Nothing else.", "No, nothing else."),
)

_STYLE = {
    "guarded": "You are wary of this doctor, so you keep it short.",
    "neutral": "You answer plainly.",
    "open": "You trust this doctor and speak openly.",
}
_EXPRESSION = {
    "explicit": "You say what you feel in plain words.",
    "indirect": "You seldom name your feelings; you talk about your body, your family and your duties instead.",
}


def system_prompt(pack: PersonaPack, plan: ContentPlan, state: SessionState | None) -> str:
    who = pack.identity
    job = f", {who.occupation}" if who.occupation else ""
    feeling = ADJECTIVE.get(plan.emotion, plan.emotion)
    if state is not None and state.emotional.distress >= 0.7:
        feeling = f"very {feeling}"
    lines = [
        f"You are {who.name}, {who.age}{job}. You are a patient talking with a doctor.",
        who.speaking_style,
        _EXPRESSION.get(who.cultural_expression.value, ""),
        f"Right now you feel {feeling}. {_STYLE.get(plan.style, '')}",
        "Speak only as yourself, in the first person (I, me, my).",
        "Each time you are given what to say. Say it in your own voice, in short spoken sentences. "
        "Keep every fact and number as it is, and add nothing new.",
    ]
    return " ".join(x for x in lines if x)


def _turn(doctor: str, say: str) -> str:
    return f'Doctor: "{doctor.strip()}"\nSay: "{say.strip()}"'


def recent_exchanges(state: SessionState | None, n: int = HISTORY_EXCHANGES) -> list[tuple[str, str]]:
    """(learner, patient) pairs before the current learner turn, most recent last."""
    if state is None:
        return []
    h = list(state.history)
    if h and h[-1][0] == "learner":
        h = h[:-1]
    pairs = [(h[i][1], h[i + 1][1]) for i in range(len(h) - 1) if h[i][0] == "learner" and h[i + 1][0] == "patient"]
    return pairs[-n:]


def current_learner_text(state: SessionState | None) -> str:
    if state is not None and state.history and state.history[-1][0] == "learner":
        return state.history[-1][1]
    return ""


def build_messages(pack: PersonaPack, plan: ContentPlan, state: SessionState | None, planned: str) -> list[dict]:
    """OpenAI-style chat messages; `planned` is the template realisation of the plan."""
    messages = [{"role": "system", "content": system_prompt(pack, plan, state)}]
    for doctor, say, said in EXAMPLES:
        messages += [{"role": "user", "content": _turn(doctor, say)}, {"role": "assistant", "content": said}]
    for doctor, said in recent_exchanges(state):
        messages += [{"role": "user", "content": _turn(doctor, said)}, {"role": "assistant", "content": said}]
    messages.append({"role": "user", "content": _turn(current_learner_text(state) or "...", planned)})
    return messages
