"""The last check before a transcript becomes a learner's turn: was it heard or invented?

Upstream VAD decides what is speech, but Whisper still writes text over near-silence and
noise (subtitle credits from its training data, "you", decoding loops). A turn built on such
text would make the patient answer something nobody said.
"""

from __future__ import annotations

from .base import Transcript, normalise_text

# What Whisper writes over silence or noise: subtitle credits from its training data.
_SILENCE_MARKERS = (
    "thanks for watching", "thank you for watching", "thanks for listening", "thank you for listening",
    "subtitles by", "subtitled by", "captions by", "transcribed by", "translated by", "amara org",
    "please subscribe", "like and subscribe", "see you in the next video", "www",
)
# Only suspicious as the whole turn: a student may well say "thank you" inside a sentence.
_SILENCE_WHOLE = {"you", "thank you", "thanks", "bye", "okay", "so", "oh", "hmm", "um", "uh", "music", "applause", "silence"}


def is_probably_hallucination(transcript: Transcript, speech_ratio: float | None = None, *,
                              no_speech_threshold: float = 0.6, logprob_threshold: float = -1.0,
                              unsure_no_speech_threshold: float = 0.4, unsure_logprob_threshold: float = -1.5,
                              min_speech_ratio: float = 0.1) -> bool:
    """True when the text is most likely invented rather than heard.

    speech_ratio: share of the clip the upstream VAD called speech (None = unknown).
    """
    text = normalise_text(transcript.text)
    if not text:
        return True
    if any(f" {marker} " in f" {text} " for marker in _SILENCE_MARKERS):  # whole words only
        return True
    words = text.split()
    if len(words) >= 6 and len(set(words)) <= max(1, len(words) // 4):
        return True  # "you you you you you you": a decoding loop
    p_silent = transcript.no_speech_prob
    if p_silent is not None and p_silent > no_speech_threshold and (
            transcript.avg_logprob is None or transcript.avg_logprob < logprob_threshold):
        return True
    if (p_silent is not None and p_silent > unsure_no_speech_threshold and transcript.avg_logprob is not None
            and transcript.avg_logprob < unsure_logprob_threshold):
        return True  # a prompted decoder is less ready to say "no speech" over noise, but is very unsure of its words
    if speech_ratio is not None and speech_ratio < min_speech_ratio:
        return True  # VAD heard (almost) nothing, yet there is text
    if text in _SILENCE_WHOLE and ((p_silent or 0.0) > 0.3 or (speech_ratio is not None and speech_ratio < 0.3)):
        return True
    return False
