"""One feedback sentence per graded turn: specific, kind, and with a concrete alternative
wording where the turn fell short (shared by every grader backend)."""

from __future__ import annotations

from ..core.emotions import ADJECTIVE
from .base import Grade, GradeContext


def better_option(emotion: str | None) -> str:
    """An ECCS 4 wording for the patient's emotion: acknowledge, then pursue."""
    adj = ADJECTIVE.get(emotion or "", "")
    if adj and emotion not in ("calm", "relief"):
        return f"It sounds like you're feeling really {adj}. Can you tell me more about that?"
    return "That sounds really hard. Can you tell me more about how it's been for you?"


UNSURE_BELOW = 0.5  # ECCS confidence under which feedback is offered as a possibility


def feedback_for(g: Grade, ctx: GradeContext) -> str:
    """The feedback sentence; on an unsure grade it says so and is worded as a possibility."""
    text = _feedback(g, ctx)
    conf = g.confidence.eccs
    if conf is not None and conf < UNSURE_BELOW:
        return "I'm not certain of this grade, so take it as a suggestion: " + text[0].lower() + text[1:]
    return text


def _feedback(g: Grade, ctx: GradeContext) -> str:
    alt = better_option(ctx.patient_emotion)
    flags = set(g.flags)
    if "dismissive" in flags:
        return f"That may have felt dismissive to the patient; stay with their feeling instead, for example: \"{alt}\""
    if "false_understanding" in flags:
        return f"Claiming to know exactly how they feel can ring hollow; offer your understanding as a guess: \"{alt}\""
    if "assumption_or_stereotype" in flags:
        return "That drew a conclusion from the patient's group rather than their own words; ask instead: \"What is this like for you?\""
    if "sympathy_only" in flags:
        return f"Pity centres your own feeling; name theirs instead, for example: \"{alt}\""
    if "premature_reassurance" in flags:
        return f"Reassurance before exploring can close the conversation; first find out what worries them: \"{alt}\""
    if "topic_switch" in flags:
        return f"The patient offered a feeling and the turn moved on; try acknowledging it first: \"{alt}\""
    if "jargon" in flags:
        return "A medical term there may not be clear to the patient; say it in everyday words and check they followed."
    if "advice_before_exploring" in flags:
        return f"Advice came before you understood their situation; explore first, for example: \"{alt}\""
    if g.empathic_accuracy is False:
        return f"The feeling you named did not match theirs; offer names as a guess and listen for the correction: \"{alt}\""
    if g.eccs is not None:
        if g.eccs >= 5:
            return "You made the feeling legitimate; that tells the patient it is safe to say more. Well done."
        if g.eccs == 4:
            return "You acknowledged the feeling and invited more; that is exactly the pursuit ECCS rewards."
        if g.eccs == 3:
            return "Good acknowledgement; follow it with a question about the feeling, e.g. \"What worries you most?\""
        if g.eccs == 2:
            return f"You followed the content but not the feeling behind it; try: \"{alt}\""
        return f"A brief acknowledgement then moving on misses the opening; try: \"{alt}\""
    if g.nurse:
        return "A supportive, patient-centred turn; keep listening for cues."
    if g.question_type == "open":
        return "A good open question that lets the patient tell their story."
    if g.question_type == "closed":
        return "A focused closed question; mix in open ones so the patient can tell their story."
    return "Fine; keep listening for the patient's cues and concerns."
