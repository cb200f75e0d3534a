"""Who did the talking: seconds of speech per side, measured or estimated.

Voice turns store the learner's audio length; patient replies are estimated from their
word count at the persona's speaking rate unless a measured length was stored. Text
sessions are estimated on both sides, which still shows who dominated the conversation.
"""

from __future__ import annotations

from pydantic import BaseModel

from ..records import EvalSession

LEARNER_WPM = 150.0
"""A typical conversational speaking rate, used when the learner's audio length is unknown."""


def words(text: str) -> int:
    return len(text.split())


def speech_seconds(text: str, wpm: float) -> float:
    return round(60.0 * words(text) / wpm, 2)


class TurnTalk(BaseModel):
    turn: int
    learner_s: float
    patient_s: float


class TalkTime(BaseModel):
    learner_s: float
    patient_s: float
    learner_share: float | None
    learner_measured: bool
    patient_measured: bool
    interruptions: int
    """Patient replies the learner cut short."""
    barge_ins: int
    """Learner turns that started over the patient."""
    per_turn: list[TurnTalk]


def talk_time(session: EvalSession, patient_wpm: float = 160.0) -> TalkTime:
    rows = []
    learner_measured = patient_measured = bool(session.turns)
    for t in session.turns:
        if t.learner_audio_s is not None:
            ls = float(t.learner_audio_s)
        else:
            ls, learner_measured = speech_seconds(t.learner_text, LEARNER_WPM), False
        if t.patient_audio_s is not None:
            ps = float(t.patient_audio_s)
        else:
            ps, patient_measured = speech_seconds(t.reply, patient_wpm), False
        rows.append(TurnTalk(turn=t.turn, learner_s=round(ls, 2), patient_s=round(ps, 2)))
    learner = round(sum(r.learner_s for r in rows), 2)
    patient = round(sum(r.patient_s for r in rows), 2)
    total = learner + patient
    return TalkTime(
        learner_s=learner, patient_s=patient, learner_share=round(learner / total, 3) if total else None,
        learner_measured=learner_measured, patient_measured=patient_measured,
        interruptions=max(session.interruptions, sum(t.interrupted for t in session.turns)),
        barge_ins=sum(t.barged_in for t in session.turns), per_turn=rows,
    )
