"""Passage vectors shared by every node through the database (``PassageVector``).

Embedding is the slow part of indexing (a 10k-article knowledge base took 2 hours on 2 cores),
so a node that follows the shared knowledge base (``kb_server.follow``) indexes through
``wrap(embedder)``: each passage is looked up by the hash of its text and the model's name
before it is embedded, and what the model embeds is stored for the others. Query vectors are
not shared (each process keeps its own LRU). ``kb_passage_vectors_total{source}`` counts the
passages read from the store (``shared``) and embedded here (``computed``).
"""
from __future__ import annotations

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from indexer.embedding_cache import CachedEmbedder
from kb_server import metrics
from kb_server.extensions import db
from kb_server.models import PassageVector

LOOKUP_BATCH = 500       # keys per SELECT ... IN


class DatabaseStore:
    """The passage vectors of one model in the database (a store of ``CachedEmbedder``)."""

    def __init__(self, engine: sa.Engine, model: str, dim: int):
        self.engine, self.model, self.dim = engine, model, dim

    def get(self, keys: list[str]) -> dict[str, np.ndarray]:
        found = {}
        table = PassageVector.__table__
        with self.engine.connect() as connection:
            for start in range(0, len(keys), LOOKUP_BATCH):
                rows = connection.execute(
                    sa.select(table.c.content_hash, table.c.vector).where(
                        table.c.model == self.model, table.c.dim == self.dim,
                        table.c.content_hash.in_(keys[start:start + LOOKUP_BATCH])))
                found.update((key, np.frombuffer(blob, dtype="<f4")) for key, blob in rows)
        metrics.PASSAGE_VECTORS.labels("shared").inc(len(found))
        return found

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        """Store ``vectors``; one another node stored meanwhile is kept (the same model and
        text give the same vector)."""
        if not vectors:
            return
        metrics.PASSAGE_VECTORS.labels("computed").inc(len(vectors))
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        rows = [{"model": self.model, "content_hash": key, "dim": self.dim,
                 "vector": np.asarray(vector, dtype="<f4").tobytes()}
                for key, vector in vectors.items()]
        with self.engine.begin() as connection:
            connection.execute(dialect.insert(PassageVector.__table__)
                               .on_conflict_do_nothing(), rows)

    def save(self) -> None:
        """Nothing to do: ``put`` has written."""


def wrap(embedder):
    """``embedder`` reading and writing the shared passage vectors (in an app context)."""
    return CachedEmbedder(embedder, DatabaseStore(db.engine, embedder.name, embedder.dim),
                          kinds=("passage",))
