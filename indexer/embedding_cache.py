"""Embeddings remembered by model and exact text, in a store: a file for ``kb eval``, the
database for the nodes of a cluster (``kb_server.shared_vectors``).

``CachedEmbedder`` wraps an embedder: a text of a cached kind (``query``/``passage``) that the
store holds for this model is read back, every other one is embedded by the model and put in
the store. The vectors are the model's own, so results are those of the uncached model.

A store has ``get(keys) -> {key: vector}`` (the keys it holds), ``put({key: vector})`` and
``save()``. ``FileStore`` is ``kb eval``'s: one file per model in a folder, written atomically
by ``save`` (evaluating semantic ranking embeds the whole corpus, minutes on a small CPU, and a
tuning grid evaluates the same corpus many times).
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from threading import Lock

import numpy as np

from indexer.embeddings import Embedder

KINDS = ("query", "passage")


def text_key(kind: str, text: str) -> str:
    """The cache key of one text: its kind (``query``/``passage``) and a hash of the text."""
    return hashlib.sha256(f"{kind}\0{text}".encode("utf-8")).hexdigest()


class FileStore:
    """The vectors of one model in ``folder/<model>.npz``, kept in memory until ``save``."""

    def __init__(self, folder: str | Path, model: str):
        self.model = model
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model)
        self.path = Path(folder) / f"{safe}.npz"
        self._vectors: dict[str, np.ndarray] = {}
        self._added = False
        self._lock = Lock()
        self._load()

    def _load(self) -> None:
        try:
            with np.load(self.path, allow_pickle=False) as data:
                if str(data["model"]) != self.model:
                    return
                self._vectors = dict(zip(data["keys"].tolist(), data["vectors"]))
        except (OSError, KeyError, ValueError):   # absent or unreadable: start empty
            self._vectors = {}

    def get(self, keys: list[str]) -> dict[str, np.ndarray]:
        with self._lock:
            return {k: self._vectors[k] for k in keys if k in self._vectors}

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._vectors.update(vectors)
            self._added = True

    def save(self) -> None:
        """Write the file (atomically) if anything was added since it was read."""
        with self._lock:
            if not self._added:
                return
            keys = list(self._vectors)
            vectors = np.vstack([self._vectors[k] for k in keys]).astype(np.float32)
            self._added = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, model=np.array(self.model), keys=np.array(keys), vectors=vectors)
        os.replace(tmp, self.path)


class CachedEmbedder(Embedder):
    """``embedder`` with the vectors of the ``kinds`` of text it embeds kept in ``store``."""

    def __init__(self, embedder: Embedder, store, kinds: tuple[str, ...] = KINDS):
        self.embedder, self.store, self.kinds = embedder, store, kinds
        self.name, self.dim = embedder.name, embedder.dim

    def _embed(self, kind: str, texts: list[str], encode) -> np.ndarray:
        if kind not in self.kinds:
            return encode(texts)
        keys = [text_key(kind, t) for t in texts]
        found = self.store.get(list(dict.fromkeys(keys)))
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            wanted = dict(zip(keys, texts))
            fresh = dict(zip(missing, np.asarray(encode([wanted[k] for k in missing]),
                                                 dtype=np.float32)))
            self.store.put(fresh)
            found.update(fresh)
        rows = [found[k] for k in keys]
        return np.vstack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)

    def embed_queries(self, texts):
        return self._embed("query", list(texts), self.embedder.embed_queries)

    def embed_passages(self, texts):
        return self._embed("passage", list(texts), self.embedder.embed_passages)

    def save(self) -> None:
        self.store.save()


def file_cached(embedder: Embedder, folder: str | Path) -> CachedEmbedder:
    """``embedder`` with its vectors kept in ``folder`` (the evaluation scripts' cache)."""
    return CachedEmbedder(embedder, FileStore(folder, embedder.name))
