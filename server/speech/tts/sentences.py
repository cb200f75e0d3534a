"""A reply cut into the pieces that are synthesised one at a time, and text made safe for espeak.

Every synthesis call costs a fixed overhead and a gap at playback, so the cut is not simply
sentence by sentence: tiny fragments ride along with a neighbour and very long sentences are cut
at clause breaks so first audio comes sooner.
"""

from __future__ import annotations

import re

from ...core.text import split_sentences

_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+")
MIN_WORDS = 3  # fragments shorter than this ride along with a neighbour
MAX_CHARS = 220  # longer sentences are cut at clause breaks so first audio comes sooner


def split_for_speech(text: str) -> list[str]:
    """Sentences to synthesise one by one.

    Each call costs a fixed overhead and a gap at playback, so tiny pieces ("Oh." "Yes.")
    are joined to the next sentence (or the previous one at the end); very long sentences
    are cut at commas/semicolons. Sentences are `server.core.text`'s (titles such as "Dr." do
    not end one).
    """
    text = strip_controls(text or "")
    if not text.strip():
        return []
    pieces = split_sentences(text)

    merged: list[str] = []
    pending = ""
    for piece in pieces:
        piece = f"{pending} {piece}".strip() if pending else piece
        if len(piece.split()) < MIN_WORDS:
            pending = piece
            continue
        merged.append(piece)
        pending = ""
    if pending:
        if merged:
            merged[-1] = f"{merged[-1]} {pending}"
        else:
            merged.append(pending)
    return [part for sentence in merged for part in _cut_long(sentence)]


def _cut_long(sentence: str) -> list[str]:
    if len(sentence) <= MAX_CHARS:
        return [sentence]
    parts, current = [], ""
    for clause in _CLAUSE_BREAK.split(sentence):
        if current and len(current) + len(clause) + 1 > MAX_CHARS and len(current.split()) >= MIN_WORDS:
            parts.append(current)
            current = clause
        else:
            current = f"{current} {clause}".strip()
    if current:
        parts.append(current)
    return parts


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def strip_controls(text: str) -> str:
    """Drop control characters: espeak reads \\x01 as an embedded command, so user text
    must never carry one into the synthesiser."""
    return _CONTROL.sub(" ", text)


def speakable(text: str | None) -> str:
    """One sentence as a backend receives it: no control characters, whitespace collapsed."""
    return " ".join(strip_controls(text or "").split())
