"""Semantic ranking: the section vectors of an index generation and the search over them.

The vectors of one index generation live in one file (``Generation.vectors``), replaced
atomically; rows of an article whose content hash (and model) did not change are copied from
the previous store, never re-embedded. The rows are ``indexer.chunking.article_chunks``.

``nearest`` is the only place that searches vectors (exact, numpy); an approximate index can
replace it when a knowledge base grows large enough to need one.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from indexer.articles import Article
from indexer.chunking import article_chunks
from indexer.embeddings import Embedder, QueryCache
from indexer.generation import Generation
from indexer.progress import Progress

# texts per embedder call: large enough for the embedder to batch texts of similar lengths
# together and keep every core busy (32 cost e5 about a fifth of its speed), small enough for
# regular progress
BATCH_SIZE = 256


@dataclass
class VectorStore:
    """Rows of vectors with the section key, article id and article hash of each row."""

    model: str
    vectors: np.ndarray      # (rows, dim) float32, L2-normalised
    keys: np.ndarray         # (rows,) section keys
    articles: np.ndarray     # (rows,) article ids
    hashes: np.ndarray       # (rows,) content hash of the row's article

    @classmethod
    def empty(cls, model: str, dim: int) -> "VectorStore":
        none = np.array([], dtype=str)
        return cls(model, np.zeros((0, dim), dtype=np.float32), none, none, none)

    @classmethod
    def load(cls, path: Path) -> "VectorStore":
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            return cls(meta["model"], data["vectors"], data["keys"], data["articles"],
                       data["hashes"])

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, vectors=self.vectors, keys=self.keys, articles=self.articles,
                 hashes=self.hashes,
                 meta=np.array(json.dumps({"model": self.model})))
        os.replace(tmp, path)

    def reusable(self, model: str) -> dict[str, tuple[str, np.ndarray]]:
        """article id -> (hash, row indices), when this store was made by ``model``."""
        if self.model != model or not len(self.keys):
            return {}
        rows: dict[str, list[int]] = {}
        for i, article_id in enumerate(self.articles.tolist()):
            rows.setdefault(article_id, []).append(i)
        return {a: (str(self.hashes[r[0]]), np.array(r)) for a, r in rows.items()}


def _embed_batches(embedder: Embedder, texts: list[str], progress: Progress | None) -> np.ndarray:
    """Passage vectors of ``texts`` (in their order), embedded BATCH_SIZE texts per call in
    order of length, so that each call holds texts of similar lengths (a text's vector does
    not depend on the other texts of its call)."""
    if progress is not None:
        progress.stage("embedding sections", len(texts))
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for start in range(0, len(order), BATCH_SIZE):
        rows = order[start:start + BATCH_SIZE]
        out[rows] = embedder.embed_passages([texts[i] for i in rows])
        if progress is not None:
            progress.advance(len(rows))
    return out


def update_vectors(target: Generation, previous: Generation | None, articles: list[Article],
                   embedder: Embedder, progress: Progress | None = None) -> int:
    """Write the vector store of ``target`` for ``articles``; returns how many rows were embedded.

    Rows of articles unchanged since ``previous`` (same content hash, same model) are reused.
    """
    old = VectorStore.empty(embedder.name, embedder.dim)
    if previous is not None and previous.vectors.exists():
        old = VectorStore.load(previous.vectors)
    reuse = old.reusable(embedder.name)
    kept_rows, keys, owners, hashes, texts = [], [], [], [], []
    for article in articles:
        found = reuse.get(article.id)
        if found and found[0] == article.content_hash:
            kept_rows.append(found[1])
            continue
        for key, text in article_chunks(article):
            keys.append(key)
            owners.append(article.id)
            hashes.append(article.content_hash)
            texts.append(text)
    fresh = _embed_batches(embedder, texts, progress)
    kept = np.concatenate(kept_rows) if kept_rows else np.array([], dtype=int)
    store = VectorStore(
        embedder.name,
        np.vstack([old.vectors[kept], fresh]).astype(np.float32),
        np.concatenate([old.keys[kept], np.array(keys, dtype=str)]),
        np.concatenate([old.articles[kept], np.array(owners, dtype=str)]),
        np.concatenate([old.hashes[kept], np.array(hashes, dtype=str)]),
    )
    store.save(target.vectors)
    return len(texts)


def nearest(vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosine scores of the ``k`` rows closest to ``query``, best first (exact)."""
    scores = vectors @ query
    k = min(k, len(scores))
    if k <= 0:
        return np.array([], dtype=int), np.array([], dtype=np.float32)
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top])]
    return top, scores[top]


class SemanticRanker:
    """Ranks sections of one index generation by cosine similarity to the query."""

    def __init__(self, generation: Generation, embedder: Embedder, query_cache_size: int | None = None):
        self.store = VectorStore.load(generation.vectors)
        if self.store.model != embedder.name:
            raise RuntimeError(f"vectors were made by {self.store.model}, not {embedder.name}: "
                               "run `kb index --full`")
        self.encode = QueryCache(embedder, **({"size": query_cache_size} if query_cache_size is not None else {}))
        self._rows: dict[str, np.ndarray] | None = None   # article id -> its rows, built on first use

    def _article_rows(self, article_id: str) -> np.ndarray:
        """The store's rows of one article, in the order ``article_chunks`` made them (the title
        row first): ``update_vectors`` keeps an article's rows in that order."""
        if self._rows is None:   # (a race builds it twice)
            order = np.argsort(self.store.articles, kind="stable")
            owners, starts = np.unique(self.store.articles[order], return_index=True)
            self._rows = dict(zip(owners.tolist(), np.split(order, starts[1:])))
        return self._rows.get(article_id, np.array([], dtype=int))

    def section_cosines(self, vector: np.ndarray, article_id: str, sections: int) -> list[float]:
        """Per section of one article (``sections`` of them), the cosine of its passage closest
        to the query ``vector`` (``encode``); the title row (title and summary) counts for the
        article, not for its introduction. 0.0 for a section without vectors."""
        rows = self._article_rows(article_id)[1:]
        best = [0.0] * sections
        for key, score in zip(self.store.keys[rows].tolist(), (self.store.vectors[rows] @ vector).tolist()):
            position = int(key.rpartition("#")[2])
            if position < sections and score > best[position]:
                best[position] = score
        return best

    def rank(self, text: str, limit: int, allowed: Callable[[str], bool] | None = None,
             use_cache: bool = True, vector: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top sections as (section key, cosine), best first; a section scores its best window.
        ``vector``: the query ``text`` already encoded (``encode``)."""
        vector = self.encode(text, use_cache) if vector is None else vector
        want = limit * 3
        while True:
            rows, scores = nearest(self.store.vectors, vector, want)
            ranked: dict[str, float] = {}
            for row, score in zip(rows.tolist(), scores.tolist()):
                key = str(self.store.keys[row])
                if key not in ranked and (allowed is None or allowed(key)):
                    ranked[key] = score
            if len(ranked) >= limit or want >= len(self.store.keys):
                return list(ranked.items())[:limit]
            want *= 4
