"""The shipped grader artefact carries no text from EPITOME-dev (issue 17): its terms allow research
use only and no redistribution, so the EPITOME heads' TF-IDF columns are hash buckets, and the
only word list in the artefact is the seed set's, the project's own text."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from server.grading.artefact import META, MODEL_DIR, WEIGHTS
from server.grading.data_sources import load_epitome, shared_dir
from server.grading.features import ngrams
from server.grading.ngram_tfidf import HASHED_BLOCKS
from tests.ci import unless_ci

GRADING_SOURCES = Path(__file__).resolve().parents[1] / "server" / "grading"


def _strings(node) -> set[str]:
    """Every string in a JSON document: keys and values."""
    if isinstance(node, dict):
        return set(node) | {s for v in node.values() for s in _strings(v)}
    if isinstance(node, list):
        return {s for v in node for s in _strings(v)}
    return {node} if isinstance(node, str) else set()


def _artefact() -> tuple[dict, dict[str, np.ndarray]]:
    meta = json.loads((MODEL_DIR / META).read_text(encoding="utf-8"))
    with np.load(MODEL_DIR / WEIGHTS, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return meta, arrays


def test_the_only_stored_vocabulary_is_the_seed_sets():
    meta, arrays = _artefact()
    assert set(meta["vocab"]) == {"seed"}
    assert not [k for k, a in arrays.items() if a.dtype.kind in "USO"], "string arrays in grader.npz"
    for block in HASHED_BLOCKS:
        buckets = arrays[f"{block}.buckets"]
        assert buckets.dtype.kind == "i" and len(buckets) == len(arrays[f"{block}.idf"])


def test_no_epitome_dev_ngram_is_stored_as_text():
    """Every EPITOME-dev reply or post n-gram found among the artefact's strings (outside the seed
    vocabulary) is a name the grader's own code uses, such as a rule or flag name."""
    shared = shared_dir()
    pairs = load_epitome(shared)
    if not pairs:
        pytest.skip(unless_ci(f"EPITOME-dev not found under {shared}: set BEDSIDE_SHARED_DATA to the shared data folder "
                              "to run this test (CI runs it)"))
    meta, arrays = _artefact()
    seed_vocab = set(meta["vocab"].pop("seed"))
    stored = _strings(meta) | set(arrays)
    epitome = {g for p in pairs for text in (p.response_post, p.seeker_post) for g in ngrams(text)} - seed_vocab
    own_names = {w for f in GRADING_SOURCES.glob("*.py") for w in re.findall(r"[a-z0-9_']+", f.read_text(encoding="utf-8").lower())}
    found = sorted(s for s in stored & epitome if s not in own_names)
    assert not found, f"{len(found)} EPITOME-dev n-grams stored in the artefact, e.g. {found[:10]}"
