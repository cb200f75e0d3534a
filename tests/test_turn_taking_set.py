"""The hand-written turn-taking test set (issue 18): schema, ids, pauses, split rule, counts.

The set is eval/turn_taking/utterances.jsonl, described in eval/turn_taking/README.md. No model
and no audio: this only reads the file, so it runs in well under a second.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter

import pytest

from server.config import REPO_ROOT

SET = REPO_ROOT / "eval" / "turn_taking" / "utterances.jsonl"

FIELDS = {"id", "kind", "segments", "pause_s", "voice", "speed", "split"}
KINDS = {"complete", "pause", "trailing"}
VOICES = {"en", "en-us", "en-gb-x-rp", "en-gb-scotland", "en+f3", "en-us+f2", "en+m3"}
SPEEDS = {130, 150, 170}
MIN_ROWS = 150
MIN_PAUSED = 60  # 'pause' and 'trailing' together


def _split(utterance_id: str) -> str:
    return "test" if int(hashlib.sha1(utterance_id.encode()).hexdigest()[:8], 16) % 100 < 50 else "dev"


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    lines = SET.read_text(encoding="utf-8").splitlines()
    assert all(line.strip() for line in lines), "blank line in the set"
    return [json.loads(line) for line in lines]


def test_every_row_has_exactly_the_fields(rows):
    for row in rows:
        assert set(row) == FIELDS, row


def test_ids_are_unique_slugs(rows):
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    for i in ids:
        assert re.fullmatch(r"[a-z][a-z0-9-]*", i), i


def test_kinds_segments_and_pauses(rows):
    for row in rows:
        assert row["kind"] in KINDS, row
        segments = row["segments"]
        assert isinstance(segments, list) and all(isinstance(s, str) for s in segments), row
        assert all(s.strip() and s == s.strip() for s in segments), row
        if row["kind"] == "complete":
            assert len(segments) == 1, row
            assert row["pause_s"] is None, row
        else:
            assert len(segments) == 2, row
            pause = row["pause_s"]
            assert isinstance(pause, (int, float)) and not isinstance(pause, bool), row
            assert 0.6 <= pause <= 1.5, row
            assert round(pause, 1) == pause, row


def test_voices_and_speeds(rows):
    for row in rows:
        assert row["voice"] in VOICES, row
        assert row["speed"] in SPEEDS and not isinstance(row["speed"], bool), row


def test_split_follows_the_hash_rule(rows):
    for row in rows:
        assert row["split"] == _split(row["id"]), row


def test_counts(rows):
    kinds = Counter(row["kind"] for row in rows)
    splits = Counter(row["split"] for row in rows)
    assert len(rows) >= MIN_ROWS
    assert kinds["pause"] + kinds["trailing"] >= MIN_PAUSED
    assert kinds["complete"] > 0
    assert splits["dev"] > 0 and splits["test"] > 0
    # every kind appears in both splits, so neither split is missing a case the benchmark reports
    for kind in KINDS:
        assert {row["split"] for row in rows if row["kind"] == kind} == {"dev", "test"}, kind


def test_full_utterances_are_distinct(rows):
    texts = [" ".join(row["segments"]).lower() for row in rows]
    assert len(texts) == len(set(texts)), [t for t, n in Counter(texts).items() if n > 1]
