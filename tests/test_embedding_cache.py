"""The embedding cache (indexer/embedding_cache.py) with the evaluation's file store."""
from __future__ import annotations

import numpy as np

from indexer.embedding_cache import file_cached


class FakeEmbedder:
    """Deterministic vectors from the text; counts what it is asked to embed."""

    dim = 4

    def __init__(self, name="fake-model"):
        self.name = name
        self.embedded: list[str] = []

    def _vectors(self, texts, salt):
        self.embedded += texts
        rows = [np.random.default_rng(abs(hash((salt, t))) % 2**32).random(self.dim) for t in texts]
        return np.array(rows, dtype=np.float32)

    def embed_passages(self, texts):
        return self._vectors(texts, "p")

    def embed_queries(self, texts):
        return self._vectors(texts, "q")


def test_vectors_are_reused_across_runs_by_model_kind_and_text(tmp_path):
    model = FakeEmbedder()
    first = file_cached(model, tmp_path)
    passages = first.embed_passages(["alpha", "beta", "alpha"])
    query = first.embed_queries(["alpha"])
    assert model.embedded == ["alpha", "beta", "alpha"]     # a query is not a passage
    first.save()

    again = file_cached(model, tmp_path)                # a later run
    assert np.array_equal(again.embed_passages(["beta", "alpha"]), passages[[1, 0]])
    assert np.array_equal(again.embed_queries(["alpha"]), query)
    assert model.embedded == ["alpha", "beta", "alpha"]     # nothing embedded again
    again.embed_passages(["gamma"])
    assert model.embedded[-1] == "gamma"


def test_another_model_never_reads_the_cache(tmp_path):
    file_cached(FakeEmbedder("model-a"), tmp_path).embed_passages(["alpha"])
    cached = file_cached(FakeEmbedder("model-a"), tmp_path)
    cached.embed_passages(["alpha"])
    cached.save()
    other = FakeEmbedder("model-b")
    file_cached(other, tmp_path).embed_passages(["alpha"])
    assert other.embedded == ["alpha"]


def test_a_broken_cache_file_is_ignored(tmp_path):
    model = FakeEmbedder()
    cached = file_cached(model, tmp_path)
    cached.store.path.write_bytes(b"not a zip file")
    reopened = file_cached(model, tmp_path)
    assert reopened.embed_passages(["alpha"]).shape == (1, 4)
    reopened.save()
    assert file_cached(model, tmp_path).embed_passages(["alpha"]).shape == (1, 4)
    assert model.embedded == ["alpha"]
