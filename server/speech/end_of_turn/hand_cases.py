"""Hand-written learner phrases with a known answer, the classifier's acceptance check.

Written before the first model was trained and never used to choose anything. Each is checked
as written and in `speech_form` (lowercase, no punctuation), as Whisper may give either.
The first eight are issue 18's examples; the rest were added at the same time.
"""

from __future__ import annotations

from .features import speech_form

UNFINISHED = ("I was wondering", "That sounds", "your family, and", "Is there anything that", "So um",
              "Can you tell me about the", "I understand that you", "And how long have you been")
FINISHED = ("Is there anything that makes it better?", "That sounds really hard.", "How are you feeling today?",
            "I was wondering whether you've had any pain.", "Tell me more about that.", "What worries you most?",
            "I'm sorry to hear that.")


def hand_cases() -> list[tuple[str, bool]]:
    """(text, complete) for every phrase, as written and in speech form."""
    return [(form, done) for texts, done in ((UNFINISHED, False), (FINISHED, True))
            for t in texts for form in (t, speech_form(t))]
