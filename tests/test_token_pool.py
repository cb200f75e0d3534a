"""The attention-pooling part of the EPITOME interpretations head (server/grading/token_pool.py)."""

from __future__ import annotations

import numpy as np

from server.grading.token_pool import fit_token_pool, pool_probabilities, rationale_token_labels


def test_rationale_labels_mark_the_tokens_inside_any_rationale_span():
    text = "Sorry to hear that. It must feel lonely at night."
    # character offsets of 4 made-up tokens plus special tokens (0, 0) at both ends
    offsets = [(0, 0), (0, 5), (20, 22), (23, 27), (39, 44), (0, 0)]
    labels = rationale_token_labels(text, offsets, "it must feel LONELY|not in the reply at all|ok")
    assert labels.tolist() == [0, 0, 1, 1, 0, 0]  # "It", "must"; specials and text outside stay 0
    assert rationale_token_labels(text, offsets, "").sum() == 0


def _synthetic(n: int, seed: int):
    """Replies of random noise tokens; class 1/2 replies hide one 'marker' token among them,
    and the marker's token is the rationale."""
    fixed = np.random.default_rng(99)  # the same two markers in every draw
    markers = {1: fixed.normal(size=16).astype(np.float32) * 3, 2: fixed.normal(size=16).astype(np.float32) * 3}
    rng = np.random.default_rng(seed)
    tokens, rationale, y = [], [], []
    for i in range(n):
        level = i % 3
        length = int(rng.integers(6, 20))
        t = rng.normal(size=(length, 16)).astype(np.float32)
        r = np.zeros(length, np.float32)
        if level:
            k = int(rng.integers(1, length - 1))
            t[k] = markers[level] + rng.normal(size=16).astype(np.float32) * 0.1
            r[k] = 1.0
        tokens.append(t)
        rationale.append(r)
        y.append(level)
    return tokens, rationale, np.array(y)


def test_the_pool_finds_a_marker_token_hidden_in_noise_and_attends_to_it():
    tokens, rationale, y = _synthetic(240, seed=0)
    pool = fit_token_pool(tokens, rationale, y, seed=0)
    test_tokens, test_rationale, test_y = _synthetic(90, seed=1)
    p = pool.proba(test_tokens)
    assert p.shape == (90, 3) and np.allclose(p.sum(1), 1.0)
    assert np.mean(p.argmax(1) == test_y) > 0.9
    # the attention weight of the marker token, in replies that have one
    weights = []
    for t, r in zip(test_tokens, test_rationale):
        if r.any():
            s = t @ pool.u + pool.ub[0]
            a = np.exp(s - s.max())
            weights.append(float((a / a.sum())[r.argmax()]))
    assert np.median(weights) > 0.5


def test_training_is_reproducible_and_run_time_numbers_are_the_stored_ones():
    tokens, rationale, y = _synthetic(60, seed=2)
    a, b = fit_token_pool(tokens, rationale, y, seed=0), fit_token_pool(tokens, rationale, y, seed=0)
    assert np.array_equal(a.W, b.W) and np.array_equal(a.u, b.u)
    arrays = a.arrays("epitome_interpretations.pool.")
    assert set(arrays) == {f"epitome_interpretations.pool.{k}" for k in ("u", "ub", "W", "b")}
    np.testing.assert_allclose(pool_probabilities(arrays, "epitome_interpretations.pool.", tokens[:5]), a.proba(tokens[:5]))
