"""A full build's keyword index, written in parallel: one Whoosh segment per chunk of articles.

Rendering Markdown and Whoosh's indexing are pure Python, so a full build runs them in worker
processes (one per CPU). The articles are cut into contiguous chunks; a worker renders the
articles of its chunk, writes them into a segment of its own (with the segment's postings
cache, ``indexer.postings``) and encodes their catalog rows. The segments are committed in
chunk order, so every document gets the number it would get in a single segment: the BM25F
statistics, the scores and the order of ties are those of a one-process build.

A knowledge base of one chunk is built the same way in this process. Incremental updates
add small segments as before, merged by ``merge_small_segments`` (never the full build's).
"""
from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import FileIndex
from whoosh.reading import SegmentReader
from whoosh.writing import MERGE_SMALL, SegmentWriter

from indexer import keyword
from indexer.articles import Article, StoredArticle
from indexer.articles.parser import render_article
from indexer.articles.stored import stored_parts
from indexer.postings import write_missing_caches
from indexer.progress import Progress

# Articles per chunk (= per segment): a segment's postings wait in memory until it is written
# (~100 MB for 500 synthetic articles); letting Whoosh spill them to disk (every posting
# pickled and read back) cost a fifth more CPU. Many chunks also keep every worker busy
# until the end.
CHUNK_ARTICLES = 500
SEGMENT_LIMIT_MB = 512          # Whoosh's posting pool spills to disk beyond this (never, here)
# Segments this large (a full build's chunks) are never merged by an incremental update.
KEEP_SEGMENT_DOCS = 1000

Rows = list[tuple[dict, bytes]]   # (catalog metadata, rendered-parts line) of each article


def _chunks(articles: list[Article]) -> list[list[Article]]:
    """Contiguous chunks of at most ``CHUNK_ARTICLES``, in order."""
    return [articles[start:start + CHUNK_ARTICLES] for start in range(0, len(articles), CHUNK_ARTICLES)]


def _index_chunk(ix: FileIndex, articles: list[Article]) -> tuple[object | None, Rows]:
    """Render ``articles`` and write them into a new segment of ``ix`` (None if no section).
    Returns (segment, catalog rows). Many of these run at once: no lock is taken, and the
    writer is finalised, never finished (finishing removes the temporary folder they share)."""
    writer = SegmentWriter(ix, _lk=False, limitmb=SEGMENT_LIMIT_MB)
    rows: Rows = []
    try:
        for article in articles:
            render_article(article)
            keyword.add_article(writer, article)
            rows.append(stored_parts(article))
            article.html, article.toc, article.sections = "", [], []   # encoded: let them go
        if not writer._added:
            writer._close_segment()
            return None, rows
        segment = writer._finalize_segment()
    except BaseException:
        writer._close_segment()
        raise
    reader = SegmentReader(ix.storage, ix.schema, segment)
    try:
        write_missing_caches(reader, Path(ix.storage.folder), keyword.LAYOUT)
    finally:
        reader.close()
    return segment, rows


def _index_chunk_in_worker(job: tuple[str, list[Article]]) -> tuple[object | None, Rows]:
    folder, articles = job
    return _index_chunk(whoosh_index.open_dir(folder), articles)


def _workers(chunks: int) -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cpus, chunks))


def _start_method() -> str:
    """Workers are forked where the system can (they start at once, with the analyzers
    loaded), unless other threads run here (a server's): a forked child could inherit a lock
    one of them holds."""
    fork = "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
    return "fork" if fork else "spawn"


def _run(ix: FileIndex, chunks: list[list[Article]], workers: int):
    """(segment, rows) of every chunk, in chunk order."""
    if workers == 1:
        yield from (_index_chunk(ix, chunk) for chunk in chunks)
        return
    context = multiprocessing.get_context(_start_method())
    jobs = [(ix.storage.folder, chunk) for chunk in chunks]
    with context.Pool(workers) as pool:
        yield from pool.imap(_index_chunk_in_worker, jobs)


def build_segments(ix: FileIndex, articles: list[Article],
                   progress: Progress | None = None) -> list[StoredArticle]:
    """Index ``articles`` (parsed, not rendered) into the new, empty ``ix`` and commit. Returns
    them rendered, as the catalog stores them (rows already encoded)."""
    writer = ix.writer()   # the index lock, and the commit of all segments at once
    if progress is not None:
        progress.stage("indexing articles", len(articles))
    try:
        chunks = _chunks(articles)
        results = []
        for chunk, result in zip(chunks, _run(ix, chunks, _workers(len(chunks)))):
            results.append(result)
            if progress is not None:
                progress.advance(len(chunk))
        writer._close_segment()
        writer._commit_toc(writer.segments + [segment for segment, _ in results if segment])
        writer._finish()
    except BaseException:
        writer.cancel()
        raise
    return [StoredArticle.from_row(meta, row) for _, rows in results for meta, row in rows]


def merge_small_segments(writer, segments: list) -> list:
    """Merge policy of incremental updates: Whoosh's ``MERGE_SMALL`` among the small segments
    only. Whoosh's own policy would take a full build's twenty equal segments for small ones
    and rewrite the whole index on the first update."""
    keep = [s for s in segments if s.doc_count_all() >= KEEP_SEGMENT_DOCS]
    return keep + MERGE_SMALL(writer, [s for s in segments if s.doc_count_all() < KEEP_SEGMENT_DOCS])
