"""Embeddings remembered across ``kb eval`` runs, by model and exact text.

Evaluating semantic or hybrid ranking embeds the whole corpus, minutes on a small CPU, and a
tuning grid evaluates the same corpus many times. ``CachedEmbedder`` wraps an embedder: a
passage or query it has embedded before (same model name, same kind, same text) is read back,
every other one is embedded by the model and kept. The vectors are the model's own, so results
are those of the uncached model. One file per model in the cache folder, written atomically
by ``save``. Used by evaluation only: the product never reads this cache.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from threading import Lock

import numpy as np

from indexer.embeddings import Embedder


def text_key(kind: str, text: str) -> str:
    """The cache key of one text: its kind (``query``/``passage``) and a hash of the text."""
    return hashlib.sha256(f"{kind}\0{text}".encode("utf-8")).hexdigest()


class CachedEmbedder(Embedder):
    """``embedder`` with a persistent cache of its vectors in ``folder``."""

    def __init__(self, embedder: Embedder, folder: str | Path):
        self.embedder = embedder
        self.name, self.dim = embedder.name, embedder.dim
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", embedder.name)
        self.path = Path(folder) / f"{safe}.npz"
        self._vectors: dict[str, np.ndarray] = {}
        self._added = False
        self._lock = Lock()
        self._load()

    def _load(self) -> None:
        try:
            with np.load(self.path, allow_pickle=False) as data:
                if str(data["model"]) != self.name:
                    return
                self._vectors = dict(zip(data["keys"].tolist(), data["vectors"]))
        except (OSError, KeyError, ValueError):   # absent or unreadable: start empty
            self._vectors = {}

    def _embed(self, kind: str, texts: list[str], encode) -> np.ndarray:
        keys = [text_key(kind, t) for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if missing:
            wanted = {k: t for k, t in zip(keys, texts)}
            fresh = encode([wanted[k] for k in missing])
            with self._lock:
                self._vectors.update(zip(missing, np.asarray(fresh, dtype=np.float32)))
                self._added = True
        with self._lock:
            rows = [self._vectors[k] for k in keys]
        return np.vstack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)

    def embed_queries(self, texts):
        return self._embed("query", list(texts), self.embedder.embed_queries)

    def embed_passages(self, texts):
        return self._embed("passage", list(texts), self.embedder.embed_passages)

    def save(self) -> None:
        """Write the cache file (atomically) if anything was embedded since it was read."""
        with self._lock:
            if not self._added:
                return
            keys = list(self._vectors)
            vectors = np.vstack([self._vectors[k] for k in keys]).astype(np.float32)
            self._added = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, model=np.array(self.name), keys=np.array(keys), vectors=vectors)
        os.replace(tmp, self.path)
