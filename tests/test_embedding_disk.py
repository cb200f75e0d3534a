"""A pack's bulk embeddings are read back from disk: the same vectors, no second forward pass,
and a broken or unwritable cache only costs time."""

from __future__ import annotations

import numpy as np

from server.core.embedding_disk import embed_cached


class CountingEmbedder:
    name = "counting"

    def __init__(self, fingerprint: str | None = "counting:1"):
        self.fingerprint = fingerprint
        self.calls = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        rng = np.random.default_rng(abs(hash(tuple(texts))) % 2**32)
        return rng.standard_normal((len(texts), 4)).astype(np.float32)


def test_the_second_call_reads_the_same_vectors_from_disk(tmp_path):
    emb = CountingEmbedder()
    first = embed_cached(emb, ["any allergies?", "do you smoke?"], tmp_path)
    second = embed_cached(emb, ["any allergies?", "do you smoke?"], tmp_path)
    assert emb.calls == 1 and np.array_equal(first, second)
    embed_cached(emb, ["any allergies?"], tmp_path)  # other texts are another entry
    assert emb.calls == 2


def test_another_model_is_another_entry_and_fakes_are_never_kept(tmp_path):
    embed_cached(CountingEmbedder("counting:1"), ["a question"], tmp_path)
    other = CountingEmbedder("counting:2")
    embed_cached(other, ["a question"], tmp_path)
    assert other.calls == 1
    fake = CountingEmbedder(None)
    embed_cached(fake, ["not kept"], tmp_path)
    embed_cached(fake, ["not kept"], tmp_path)
    assert fake.calls == 2 and len(list((tmp_path / "embeddings").glob("*.npy"))) == 2


def test_a_broken_file_is_computed_again_and_an_unwritable_folder_still_answers(tmp_path):
    emb = CountingEmbedder()
    embed_cached(emb, ["q"], tmp_path)
    (entry,) = (tmp_path / "embeddings").glob("*.npy")
    entry.write_bytes(b"not an array")
    again = embed_cached(emb, ["q"], tmp_path)
    assert emb.calls == 2 and again.shape == (1, 4)
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    assert embed_cached(emb, ["q2"], blocked).shape == (1, 4)
