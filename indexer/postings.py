"""BM25F postings of a Whoosh index as numpy arrays: ranking a query is a few vector adds.

Whoosh stays the index store and the source of statistics. What it is slow at is scoring: an OR
over three languages x four fields x the query's terms is walked one document at a time in
Python. Here the postings of every (field, term) are two arrays, document numbers and the
weight Whoosh's ``BM25F`` scorer gives each document (same idf, field lengths, B and K1), so a
query is ``scores[docs] += boost * weights`` per term.

Reading postings out of Whoosh takes seconds on a large index (every block is a pickle), so the
raw postings of each segment (term frequencies and field lengths, no collection statistics) are
cached beside it as ``<segment>.postings.npz``. A segment never changes once written (deletions
live in Whoosh's table of contents), and Whoosh deletes the file together with its segment: the
name matches its segment-file pattern. The weights depend on the whole collection and are
computed when the index is opened, so an incremental update only reads its new small segment.

The reading relies on the block layout of whoosh-reloaded 2.7's W3 codec (pinned in
pyproject.toml); ``tests/test_keyword_fast.py`` checks the scores against Whoosh's own scorer.
"""
from __future__ import annotations

import functools
import os
import threading
import zipfile
from bisect import bisect_left
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.util.numeric import byte_to_length

CACHE_EXTENSION = ".postings.npz"
CACHE_VERSION = 1            # of the arrays in a cache file
MAX_WORD = 32                # longer words are never suggested as spelling corrections
FILTER_CACHE_SIZE = 64       # masks of (public, categories) combinations kept
LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)

TermBoosts = dict[tuple[str, str], float]   # a query: (field, term) -> boost


@dataclass(frozen=True)
class Layout:
    """The fields the postings cover."""

    scored: tuple[str, ...]     # text fields ranked with BM25F
    filters: tuple[str, ...]    # ID fields that restrict results ("public", "category")
    spelling: str               # the field whose words spelling corrections come from
    key: str                    # the stored field that names each document


@dataclass
class FieldPostings:
    """Postings of one field: those of ``terms[i]`` are ``docs[starts[i]:starts[i+1]]``."""

    terms: list[str]            # sorted
    starts: np.ndarray          # int64, len(terms) + 1
    docs: np.ndarray            # int32 document numbers
    values: np.ndarray          # term frequencies (raw) or BM25F weights (scored)


# --- reading a Whoosh segment ------------------------------------------------------------------
def _term_infos(reader, field: str):
    """(term, term info) of one field of a segment, in term order."""
    for (name, tbytes), info in reader._terms.items_from(field, b""):
        if name != field:
            return
        yield tbytes.decode("utf-8"), info


def _blocks(reader, field: str, info):
    """(doc-number deltas, weights, size) of each posting block of one term."""
    if info.is_inlined():
        ids, weights, _ = info.inlined_postings()
        yield np.diff(ids, prepend=0).tolist(), weights, len(ids)
        return
    terms = reader._terms
    matcher = terms._codec.postings_reader(terms._postfile, info, reader.schema[field].format)
    while matcher.is_active():
        matcher._read_data()
        ids, weights = matcher._data[0], matcher._data[1]
        yield ids, weights, matcher._blocklength
        matcher._next_block()


def _read_field(reader, field: str) -> FieldPostings:
    """All postings of one field of a segment (Whoosh stores ids as deltas within a block)."""
    terms, counts, deltas, weights, sizes = [], [], [], [], []
    for term, info in _term_infos(reader, field):
        terms.append(term)
        count = 0
        for ids, block_weights, size in _blocks(reader, field, info):
            deltas.append(ids)
            weights.append((1.0,) * size if block_weights is None
                           else (block_weights,) * size if isinstance(block_weights, float)
                           else block_weights)
            sizes.append(size)
            count += size
        counts.append(count)
    sizes = np.array(sizes, dtype=np.int64)
    first = np.cumsum(sizes) - sizes                      # first posting of every block
    docs = np.cumsum(np.fromiter(chain.from_iterable(deltas), np.int64, int(sizes.sum())))
    before = np.where(first > 0, docs[first - 1], 0)      # the sum restarts at every block
    docs = (docs - np.repeat(before, sizes)).astype(np.int32)
    starts = np.concatenate(([0], np.cumsum(counts, dtype=np.int64)))
    tf = np.fromiter(chain.from_iterable(weights), np.float32, len(docs))
    return FieldPostings(terms, starts, docs, tf)


def _read_lengths(reader, field: str) -> np.ndarray:
    """Field length of every document, as Whoosh stores it: one (logarithmic) byte each."""
    column = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    lengths = np.zeros(reader.doc_count_all(), dtype=np.uint8)
    if column is not None:
        raw = column._dbfile.get(column._basepos, column._count)
        lengths[:len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return lengths


def _pack(strings: list[str]) -> np.ndarray:
    return np.frombuffer("\n".join(strings).encode("utf-8"), dtype=np.uint8)


def _unpack(packed: np.ndarray) -> list[str]:
    return packed.tobytes().decode("utf-8").split("\n") if packed.size else []


def _segment_arrays(reader, layout: Layout) -> dict[str, np.ndarray]:
    """Everything the postings need from one segment, as named arrays (the cache file)."""
    arrays = {"version": np.array(CACHE_VERSION), "doc_count": np.array(reader.doc_count_all()),
              "keys": _pack([reader.stored_fields(d)[layout.key] for d in range(reader.doc_count_all())])}
    for field in layout.scored + layout.filters:
        postings = _read_field(reader, field)
        arrays.update({f"{field}.terms": _pack(postings.terms), f"{field}.starts": postings.starts,
                       f"{field}.docs": postings.docs, f"{field}.values": postings.values})
    for field in layout.scored:
        arrays[f"{field}.lengths"] = _read_lengths(reader, field)
        arrays[f"{field}.total"] = np.array(reader.field_length(field))
    spelling = list(_term_infos(reader, layout.spelling))
    arrays["spelling.terms"] = _pack([term for term, _ in spelling])
    arrays["spelling.freqs"] = np.array([info.weight() for _, info in spelling], dtype=np.float64)
    return arrays


def _save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write atomically; a read-only index folder only costs the next opening the same work."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as out:
            np.savez(out, **arrays)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def _load(path: Path, doc_count: int) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path) as npz:
            arrays = dict(npz)
    except (OSError, ValueError, zipfile.BadZipFile):
        return None
    current = arrays.get("version") == CACHE_VERSION and arrays.get("doc_count") == doc_count
    return arrays if current else None


def _cache_path(segment_reader, folder: Path) -> Path:
    """The cache file of one segment, beside the segment's own files."""
    return folder / segment_reader.segment().make_filename(CACHE_EXTENSION)


def write_missing_caches(reader, folder: Path, layout: Layout) -> None:
    """Write the cache file of every segment that has none yet (new segments after a commit),
    without reading the others."""
    for segment_reader, _ in reader.leaf_readers():
        if not segment_reader.doc_count_all():   # the reader of an index with no documents
            continue
        path = _cache_path(segment_reader, folder)
        if not path.exists():
            _save(path, _segment_arrays(segment_reader, layout))


def segment_arrays(reader, folder: Path | None, layout: Layout) -> dict[str, np.ndarray]:
    """One segment's arrays, from its cache file when there is one (written when there is not)."""
    path = _cache_path(reader, folder) if folder else None
    arrays = _load(path, reader.doc_count_all()) if path and path.exists() else None
    if arrays is None:
        arrays = _segment_arrays(reader, layout)
        if path:
            _save(path, arrays)
    return arrays


# --- the whole index ---------------------------------------------------------------------------
def _field(arrays: dict[str, np.ndarray], field: str) -> FieldPostings:
    return FieldPostings(_unpack(arrays[f"{field}.terms"]), arrays[f"{field}.starts"],
                         arrays[f"{field}.docs"], arrays[f"{field}.values"])


def _join(arrays: list[np.ndarray], dtype) -> np.ndarray:
    """np.concatenate that also joins no arrays at all (an index with no documents)."""
    return np.concatenate([np.zeros(0, dtype)] + arrays)


def _concat(parts: list[tuple[FieldPostings, int]]) -> FieldPostings:
    """One field's postings over all segments; document numbers shifted by segment offsets."""
    if len(parts) == 1:
        postings, offset = parts[0]
        return FieldPostings(postings.terms, postings.starts, postings.docs + offset, postings.values)
    terms = sorted(set().union(*(p.terms for p, _ in parts)))
    row = {term: i for i, term in enumerate(terms)}
    rows = _join([np.repeat(np.array([row[t] for t in p.terms], dtype=np.int64), np.diff(p.starts))
                  for p, _ in parts], np.int64)
    order = np.argsort(rows, kind="stable")
    docs = _join([p.docs + offset for p, offset in parts], np.int32)[order]
    values = _join([p.values for p, _ in parts], np.float32)[order]
    starts = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=len(terms)))))
    return FieldPostings(terms, starts, docs, values)


def bm25f(postings: FieldPostings, lengths: np.ndarray, doc_count: int, avg_length: float,
          b: float, k1: float) -> np.ndarray:
    """Whoosh's BM25F weight of every posting, with Whoosh's order of operations (so the same
    floating-point results): ``idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / avgfl)))``."""
    df = np.diff(postings.starts)
    idf = np.repeat(np.log(doc_count / (df + 1)) + 1, df)
    tf = postings.values.astype(np.float64)
    norm = k1 * ((1 - b) + b * lengths / avg_length)      # per document, then per posting
    return idf * ((tf * (k1 + 1)) / (tf + norm[postings.docs]))


@dataclass
class ScoredField:
    """A field's postings with BM25F weights, and a term -> row lookup."""

    postings: FieldPostings
    rows: dict[str, int]


class Postings:
    """The postings of one state of a Whoosh index (all its segments), ready to rank.

    Read-only once built (but for a small cache of filter masks, where a race only means
    computing a mask twice), so any number of threads may rank at the same time.
    """

    def __init__(self, segments: list[tuple[dict[str, np.ndarray], np.ndarray]], layout: Layout,
                 b: dict[str, float], k1: float):
        """``segments``: (arrays, deleted-document mask) of each segment, in Whoosh's order."""
        offsets = np.cumsum([0] + [len(deleted) for _, deleted in segments])
        self.size = int(offsets[-1])
        self.keys = [key for arrays, _ in segments for key in _unpack(arrays["keys"])]
        self.live = ~_join([deleted for _, deleted in segments], bool)
        parts = {field: [(_field(arrays, field), int(offset))
                         for (arrays, _), offset in zip(segments, offsets)]
                 for field in layout.scored + layout.filters}
        self.filters = {field: _concat(parts[field]) for field in layout.filters}
        self.fields = {field: self._scored(segments, field, _concat(parts[field]), b[field], k1)
                       for field in layout.scored}
        self.speller = Speller.merged([(_unpack(arrays["spelling.terms"]), arrays["spelling.freqs"])
                                       for arrays, _ in segments])
        self._masks: dict[frozenset, np.ndarray] = {}

    @classmethod
    def read(cls, reader, folder: Path | None, layout: Layout, b: dict[str, float], k1: float) -> Postings:
        """The postings of an open Whoosh reader; ``folder`` holds the segments' cache files."""
        segments = []
        for segment_reader, _ in reader.leaf_readers():
            if not segment_reader.doc_count_all():   # the reader of an index with no documents
                continue
            deleted = np.zeros(segment_reader.doc_count_all(), dtype=bool)
            deleted[list(segment_reader.deleted_docs_set)] = True
            segments.append((segment_arrays(segment_reader, folder, layout), deleted))
        return cls(segments, layout, b, k1)

    def _scored(self, segments, field: str, postings: FieldPostings, b: float, k1: float) -> ScoredField:
        lengths = LENGTHS[_join([arrays[f"{field}.lengths"] for arrays, _ in segments], np.uint8)]
        avg_length = sum(float(arrays[f"{field}.total"]) for arrays, _ in segments) / (self.size or 1)
        weighted = replace(postings, values=bm25f(postings, lengths, self.size, avg_length or 1, b, k1))
        return ScoredField(weighted, {term: i for i, term in enumerate(postings.terms)})

    # --- lookups -------------------------------------------------------------------------------
    def has_term(self, field: str, term: str) -> bool:
        return term in self.fields[field].rows

    def document_frequency(self, field: str, term: str) -> int:
        """How many documents have ``term`` in ``field``."""
        scored = self.fields[field]
        row = scored.rows.get(term)
        return 0 if row is None else int(scored.postings.starts[row + 1] - scored.postings.starts[row])

    @functools.cached_property
    def doc_numbers(self) -> dict[str, int]:
        """The live document of each key (an updated section's old document is deleted, not
        gone; built on first use, a race builds it twice)."""
        return {key: doc for doc, key in enumerate(self.keys) if self.live[doc]}

    def occurs(self, field: str, term: str, docs: np.ndarray) -> bool:
        """Whether ``term`` occurs in ``field`` of one of ``docs`` (document numbers)."""
        scored = self.fields[field]
        row = scored.rows.get(term)
        if row is None:
            return False
        postings = scored.postings
        found = postings.docs[postings.starts[row]:postings.starts[row + 1]]   # ascending
        at = np.minimum(np.searchsorted(found, docs), len(found) - 1)
        return bool(len(found) and (found[at] == docs).any())

    def weights(self, field: str, term: str, docs: np.ndarray) -> np.ndarray:
        """The BM25F weight of ``term`` in ``field`` of each of ``docs`` (0 where it does not
        occur, and for a document number of -1)."""
        out = np.zeros(len(docs))
        scored = self.fields[field]
        row = scored.rows.get(term)
        if row is None or not len(docs):
            return out
        postings = scored.postings
        start, end = postings.starts[row], postings.starts[row + 1]
        found = postings.docs[start:end]   # ascending
        if not len(found):
            return out
        at = np.minimum(np.searchsorted(found, docs), len(found) - 1)
        hit = found[at] == docs
        out[hit] = postings.values[start:end][at[hit]]
        return out

    def terms_with_prefix(self, field: str, prefix: str) -> list[str]:
        terms = self.fields[field].postings.terms
        lo, hi = prefix_range(terms, prefix)
        return terms[lo:hi]

    def allowed(self, filters: dict[str, tuple[str, ...]]) -> np.ndarray:
        """Mask of live documents having, in each filter field, one of the given terms."""
        key = frozenset((field, frozenset(terms)) for field, terms in filters.items())
        mask = self._masks.get(key)
        if mask is None:
            mask = self.live.copy()
            for field, terms in filters.items():
                postings, wanted = self.filters[field], np.zeros(self.size, dtype=bool)
                for i in (bisect_left(postings.terms, t) for t in terms):
                    if i < len(postings.terms) and postings.terms[i] in terms:
                        wanted[postings.docs[postings.starts[i]:postings.starts[i + 1]]] = True
                mask &= wanted
            if len(self._masks) >= FILTER_CACHE_SIZE:
                self._masks.clear()
            self._masks[key] = mask
        return mask

    # --- ranking -------------------------------------------------------------------------------
    def scores(self, boosts: TermBoosts) -> np.ndarray:
        """The sum, over the query's terms, of boost x BM25F weight, for every document.

        One ``bincount`` over the query's postings, in term order: each document's sum is
        added up in the same order as term by term (the same floating-point result), without
        a pass over every document per term."""
        docs, weights = [], []
        for (field, term), boost in boosts.items():
            scored = self.fields.get(field)
            row = scored.rows.get(term) if scored else None
            if row is not None:
                postings = scored.postings
                start, end = postings.starts[row], postings.starts[row + 1]
                docs.append(postings.docs[start:end])
                weights.append(boost * postings.values[start:end])
        if not docs:
            return np.zeros(self.size)
        return np.bincount(np.concatenate(docs), np.concatenate(weights), minlength=self.size)

    def top(self, boosts: TermBoosts, allowed: np.ndarray, limit: int) -> list[tuple[str, float]]:
        """The ``limit`` best allowed documents as (key, score); ties by document number.
        (Boolean masks throughout: ``nonzero`` of a float array costs several times more.)"""
        scores = self.scores(boosts)
        hits = np.flatnonzero((scores != 0) & allowed)
        found = scores[hits]
        if len(hits) > limit:
            cutoff = np.partition(found, len(hits) - limit)[len(hits) - limit]
            keep = found >= cutoff
            hits, found = hits[keep], found[keep]
        order = np.lexsort((hits, -found))[:limit]
        keys = self.keys
        return [(keys[doc], score) for doc, score in zip(hits[order].tolist(), found[order].tolist())]


# --- spelling ----------------------------------------------------------------------------------
def prefix_range(words: list[str], prefix: str) -> tuple[int, int]:
    """Slice of a sorted word list whose words start with ``prefix``."""
    return bisect_left(words, prefix), bisect_left(words, prefix + "\U0010ffff")


def levenshtein(word: str, codes: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Edit distance from ``word`` to each candidate (rows of code points, zero-padded), with a
    swap of two adjacent letters as one edit ("refnud" -> "refund"; the optimal string
    alignment distance): the commonest typing slip costs what a wrong letter does.

    The dynamic programme runs one row per letter of ``word`` for all candidates at once; the
    insertions along a row are a running minimum (``d[j] = j + min(e[k] - k for k <= j)``).
    """
    count, width = codes.shape
    steps = np.arange(width + 1)
    before = row = np.broadcast_to(steps, (count, width + 1))
    for i, char in enumerate(word, 1):
        best = np.minimum(row[:, :-1] + (codes != ord(char)), row[:, 1:] + 1)
        if i > 1 and width > 1:
            swapped = (codes[:, :-1] == ord(char)) & (codes[:, 1:] == ord(word[i - 2]))
            best[:, 1:] = np.where(swapped, np.minimum(best[:, 1:], before[:, :-2] + 1), best[:, 1:])
        edges = np.concatenate((np.full((count, 1), i), best), axis=1)
        before, row = row, np.minimum.accumulate(edges - steps, axis=1) + steps
    return row[np.arange(count), lengths]


class Speller:
    """The closest word of the knowledge base to a misspelt one: same first letters, the fewest
    edits within ``maxdist``, then the most frequent (then alphabetical)."""

    def __init__(self, words: list[str], freqs: np.ndarray):
        keep = [i for i, word in enumerate(words) if len(word) <= MAX_WORD]
        self.words = [words[i] for i in keep]
        self.freqs = freqs[keep]
        self.lengths = np.array([len(word) for word in self.words], dtype=np.int64)
        self.codes = (np.array(self.words, dtype=f"<U{MAX_WORD}").view(np.uint32)
                      .reshape(len(self.words), MAX_WORD))

    @classmethod
    def merged(cls, vocabularies: list[tuple[list[str], np.ndarray]]) -> Speller:
        """One speller over several segments' words (frequencies add up)."""
        if len(vocabularies) == 1:
            return cls(*vocabularies[0])
        freqs: dict[str, float] = {}
        for words, counts in vocabularies:
            for word, count in zip(words, counts.tolist()):
                freqs[word] = freqs.get(word, 0.0) + count
        words = sorted(freqs)
        return cls(words, np.array([freqs[w] for w in words], dtype=np.float64))

    def suggest(self, word: str, maxdist: int, prefix: int = 1) -> str | None:
        if len(word) > MAX_WORD - maxdist:
            return None
        lo, hi = prefix_range(self.words, word[:prefix])
        near = lo + np.flatnonzero(np.abs(self.lengths[lo:hi] - len(word)) <= maxdist)
        if not len(near):
            return None
        distances = levenshtein(word, self.codes[near, :len(word) + maxdist], self.lengths[near])
        within = distances <= maxdist
        if not within.any():
            return None
        close = near[distances == distances[within].min()]
        return self.words[close[np.argmax(self.freqs[close])]]
