"""Text as a speech recogniser might return it, for training the grader to ignore ASR noise.

What Whisper and clinical ASR change in a doctor's turn (compared on the aci-bench human and
ASR transcripts): case and punctuation vanish, sentence boundaries go, fillers come and go,
short function words drop out, contractions split ("ca n't"), and a few words are misheard.
The grade should not move with any of these, so each training pair gets noised copies.
"""

from __future__ import annotations

import random
import re

FILLERS = ("um", "uh", "so", "okay", "you know", "like")
FUNCTION = {"the", "a", "an", "to", "of", "and", "is", "it", "that", "you", "i", "do", "are", "have", "just"}
SOUNDALIKE = {"your": "you're", "you're": "your", "there": "their", "their": "there", "to": "too", "too": "to",
              "hear": "here", "here": "hear", "know": "no", "no": "know", "right": "write", "feel": "fill",
              "worried": "word", "scared": "scare", "hard": "heart", "heart": "hard", "pain": "paying",
              "that's": "thats", "it's": "its", "i'm": "im", "can't": "ca n't", "don't": "do n't", "sounds": "sound"}


def noisy(text: str, rng: random.Random, strength: float = 1.0) -> str:
    """One ASR-like rendering of `text`; strength scales how many words change."""
    t = text.lower()
    if rng.random() < 0.7:
        t = re.sub(r"[,.;:!?\"]", " " if rng.random() < 0.5 else "", t)
    out = []
    for w in t.split():
        r = rng.random()
        if r < 0.04 * strength and w in FUNCTION:
            continue
        if r < 0.10 * strength and w in SOUNDALIKE:
            w = SOUNDALIKE[w]
        out.append(w)
        if rng.random() < 0.03 * strength:
            out.append(rng.choice(FILLERS))
    if out and rng.random() < 0.2:
        out.insert(0, rng.choice(FILLERS))
    return " ".join(out) if out else text
