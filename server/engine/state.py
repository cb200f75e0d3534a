"""Deterministic emotional-state update. The rules, in order (docs/emotional-state.md):

1. Score the turn: an empathy signal s in [-1, 1] from the grade. Answers to an empathic
   opportunity are scored by ECCS level (ECCS_SIGNAL); other turns by their NURSE types, the
   question type and the act (a greeting, a courtesy, a summary or a plan is mildly positive).
   Each negative flag subtracts its FLAG_PENALTY; naming the wrong emotion subtracts, naming
   the right one adds. The level and each flag count by 0.5 + 0.5 x the grader's confidence in
   them (confidence_weight).
2. Move: trust += TRUST_GAIN * sensitivity * s; distress -= DISTRESS_RELIEF * sensitivity * s.
3. Remember unanswered cues: each opportunity raised and not yet acknowledged (at most
   CUE_PRESSURE_CUES of them) adds CUE_PRESSURE distress per turn, but ignored cues alone never
   lift distress more than CUE_CEILING above the baseline; only dismissals take it further.
4. Decay toward the persona's baseline: distress by its recovery rate, trust (which is
   slower to give back) by half of it, and trust lost below the baseline by a quarter.
5. Clip to [0, 1], then derive the emotion label and disclosure style.

Calibrated on ordinary clinical behaviour: a courteous history that does not take up the
patient's cues costs a little distress and almost no trust (a standardized patient does not
punish history-taking); dismissals and the flagged patterns cost trust.
"""

from __future__ import annotations

from ..core.types import EmotionalState, Style
from ..grading.base import Grade
from ..grading.constraints import NOT_IN_A_PLAN  # a summary or a plan is not advice, reassurance or a change of subject
from ..persona.schema import PersonaPack

# A missed opening (a history question over a cue: ECCS 0-2 with no dismissal) is a small
# trust cost; the cue's distress does the rest (rule 3).
ECCS_SIGNAL = {0: -0.25, 1: -0.15, 2: 0.0, 3: 0.45, 4: 0.65, 5: 0.75, 6: 0.75}
NURSE_SIGNAL = 0.15
OPEN_QUESTION_SIGNAL = 0.1
COURTESY_SIGNAL = 0.1    # a greeting, thanks, an introduction, a summary or a plan with no flag
FLAG_PENALTY = {
    "dismissive": 0.6,
    "assumption_or_stereotype": 0.4,
    "false_understanding": 0.3,
    "premature_reassurance": 0.25,
    "advice_before_exploring": 0.15,
    "sympathy_only": 0.1,
    "jargon": 0.1,
    "interrupted": 0.1,
    "topic_switch": 0.05,
}
ACCURACY_SIGNAL = {True: 0.1, False: -0.15}
TRUST_GAIN = 0.15
TRUST_DECAY_SHARE = 0.5      # trust above baseline returns to it at half the persona's recovery rate
TRUST_REPAIR_SHARE = 0.25    # trust lost to dismissals comes back more slowly still, on its own
DISTRESS_RELIEF = 0.10
CUE_PRESSURE = 0.03
CUE_PRESSURE_CUES = 2
CUE_CEILING = 0.08
COURTEOUS_ACTS = frozenset({"greeting", "closing", "explanation", "summary", "plan", "teach_back_request"})
GUARDED_BELOW = 0.35
OPEN_FROM = 0.65


def confidence_weight(p: float | None) -> float:
    """Half of a move is certain, the other half scales with the grader's confidence; a grader
    that reports none (rules, judge) moves the state fully."""
    return 1.0 if p is None else 0.5 + 0.5 * p


def flags_against(grade: Grade, act: str | None) -> list[str]:
    """The flags that count against the turn: a summary or plan is not held to the manner flags."""
    return [f for f in grade.flags if not (act in ("summary", "plan") and f in NOT_IN_A_PLAN)]


def empathy_signal(grade: Grade, act: str | None = None) -> float:
    """The turn's signal; a level or a flag moves it in proportion to the grader's confidence
    in it (grade.confidence), so an unsure grade moves the patient less. `act`: the dialogue
    act's value; a courteous act with no flag counts a little in its favour."""
    conf = grade.confidence
    flags = flags_against(grade, act)
    if grade.eccs is not None:
        s = ECCS_SIGNAL[grade.eccs] * confidence_weight(conf.eccs)
    else:
        s = min(3, len(grade.nurse)) * NURSE_SIGNAL + (OPEN_QUESTION_SIGNAL if grade.question_type == "open" else 0.0)
        if act in COURTEOUS_ACTS and not flags:
            s += COURTESY_SIGNAL
    s -= sum(FLAG_PENALTY.get(f, 0.0) * confidence_weight(conf.flags.get(f)) for f in flags)
    if grade.empathic_accuracy is not None:
        s += ACCURACY_SIGNAL[grade.empathic_accuracy]
    return max(-1.0, min(1.0, s))


def style_for(trust: float) -> Style:
    if trust < GUARDED_BELOW:
        return "guarded"
    return "open" if trust >= OPEN_FROM else "neutral"


def emotion_label(pack: PersonaPack, trust: float, distress: float, signal: float) -> str:
    """The feeling in words: the persona's primary emotion, unless the learner has just
    provoked irritation, or distress has eased well below where the visit started."""
    primary = pack.emotion.primary.value
    if signal <= -0.4 and trust < 0.3:
        return "anger" if primary in ("anger", "frustration") else "frustration"
    if distress < 0.2:
        return "calm"
    if distress < pack.emotion.baseline.distress - 0.2:
        return "relief"
    return primary


def initial_state(pack: PersonaPack) -> EmotionalState:
    b = pack.emotion.baseline
    return EmotionalState(trust=b.trust, distress=b.distress, emotion=pack.emotion.primary.value, style=style_for(b.trust))


def update(pack: PersonaPack, state: EmotionalState, grade: Grade, unanswered_cues: int,
           act: str | None = None) -> tuple[EmotionalState, float]:
    """Return the new state and the empathy signal that moved it."""
    prof = pack.emotion
    s = empathy_signal(grade, act)
    trust = state.trust + TRUST_GAIN * prof.sensitivity * s
    distress = state.distress - DISTRESS_RELIEF * prof.sensitivity * s
    room = prof.baseline.distress + CUE_CEILING - distress
    distress += max(0.0, min(CUE_PRESSURE * min(unanswered_cues, CUE_PRESSURE_CUES), room))
    share = TRUST_DECAY_SHARE if trust >= prof.baseline.trust else TRUST_REPAIR_SHARE
    trust += share * prof.recovery_rate * (prof.baseline.trust - trust)
    distress += prof.recovery_rate * (prof.baseline.distress - distress)
    trust = round(min(1.0, max(0.0, trust)), 4)
    distress = round(min(1.0, max(0.0, distress)), 4)
    return EmotionalState(trust=trust, distress=distress, emotion=emotion_label(pack, trust, distress, s), style=style_for(trust)), s
