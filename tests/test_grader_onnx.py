"""The trained grader's live passes on ONNX Runtime give what PyTorch gives: the same grades and,
underneath, the same pair-model logits and reply states to float rounding. Real MiniLM, the
shipped artefact."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from server.grading.base import GradeContext
from server.grading.data_sources import load_seed

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graders():
    from server.grading.encoder import TextEncoder
    from server.grading.trained import TrainedGrader
    fast = TrainedGrader(runtime="onnx")
    slow = TrainedGrader(runtime="torch", encoder=TextEncoder(fast.encoder.embedder))
    assert fast.runtime == "onnx" and slow.runtime == "torch"
    return fast, slow


def _rows(n: int = 80):
    rows = load_seed("test")
    step = max(1, len(rows) // n)
    return rows[::step][:n]


def test_onnx_head_probabilities_are_the_torch_ones(graders):
    """What the reply pass feeds the heads, through each runtime, one pass at a time."""
    fast, slow = graders
    for r in _rows():
        ctx = r.context_for_grading()
        pa, pb = (g.probabilities(r.response, ctx, seed_heads=False) for g in (fast, slow))
        assert max(float(np.abs(pa[k] - pb[k]).max()) for k in pa) < 1e-4, r.response


def test_onnx_grades_are_the_same_from_a_second_grader(graders):
    """The default path end to end, with the pair pass on its own thread beside the reply pass:
    a second grader, with nothing cached, grades every row the same. (The same comparison
    against a PyTorch grader failed twice in about four full test runs, each time with the
    PyTorch side's reply features off by up to 0.05 after a pass that ran beside the pair
    pass's torch work; the cause was not found. On ONNX Runtime the live reply pass runs no
    torch, and `docs/grading.md` says so.)"""
    from server.grading.encoder import TextEncoder
    from server.grading.trained import TrainedGrader
    fast, _ = graders
    again = TrainedGrader(runtime="onnx", encoder=TextEncoder(fast.encoder.embedder))
    for r in _rows():
        ctx = r.context_for_grading()
        assert fast.grade(r.response, ctx).model_dump() == again.grade(r.response, ctx).model_dump(), r.response


def test_pair_logits_and_reply_states_match(graders):
    fast, slow = graders
    for r in _rows(30):
        patient = r.context_for_grading().patient_turn or "Hello."
        a = fast.pair.logits([patient], [r.response])
        b = slow.pair.logits([patient], [r.response])
        assert a.shape == b.shape
        assert np.abs(a - b).max() < 1e-3
        wa, _, sa, ta = (x[0] for x in fast.encoder.encode_replies([r.response]))
        wb, _, sb, tb = (x[0] for x in slow.encoder.encode_replies([r.response]))
        assert np.abs(wa - wb).max() < 1e-4 and np.abs(ta - tb).max() < 1e-3
        assert np.abs(np.asarray(sa) - np.asarray(sb)).max() < 1e-4


def test_an_empty_reply_and_a_long_one_run(graders):
    fast, _ = graders
    ctx = GradeContext(patient_turn="I'm scared it's my heart.", patient_emotion="fear", opportunity_id="o", opportunity_kind="explicit")
    assert fast.grade("", ctx).grader_version == fast.version
    long = " ".join(["That sounds really frightening, and I can see why you'd worry."] * 40)  # past the 128-token cut
    assert fast.grade(long, ctx).eccs is not None


def test_unknown_runtime_is_refused():
    from server.grading.trained import TrainedGrader
    with pytest.raises(ValueError, match="onnx, torch"):
        TrainedGrader(runtime="tensorrt")


def test_missing_onnx_falls_back_to_torch_and_says_why(monkeypatch, caplog):
    from server.core import onnx_graphs as onnx_passes
    from server.grading.trained import TrainedGrader
    monkeypatch.setattr(onnx_passes, "unavailable_reason", lambda: "onnx is not installed (pip install onnx onnxruntime)")
    with caplog.at_level(logging.WARNING):
        g = TrainedGrader(runtime="onnx")
    assert g.runtime == "torch" and g.pair._onnx is None
    assert "onnx is not installed" in caplog.text


def test_the_embedder_on_onnx_gives_the_torch_vectors():
    from server.core.embedding import MiniLMEmbedder, default_embedder
    texts = ["Do you smoke?", "How's the waterworks?", "I'm so sorry, that must have been awful for you.", "ok"]
    plain = MiniLMEmbedder(threads=1)
    assert plain.fast is None
    fast = default_embedder()
    assert fast.run_on_onnx() and fast.fast is not None
    a, b = fast.embed(texts), plain.embed(texts)
    assert a.shape == b.shape == (4, 384) and a.dtype == np.float32
    assert np.abs(a - b).max() < 1e-4
    many = [f"question number {i}" for i in range(20)]  # past LIVE_BATCH: PyTorch
    assert np.abs(fast.embed(many) - plain.embed(many)).max() < 1e-4
