"""Building the index: articles on disk -> Whoosh sections + catalog (+ vectors), generation by generation.

A full rebuild writes a new generation (``indexer.generation``) beside the served one and
switches ``CURRENT`` only when it is complete, so a crash mid-rebuild leaves the previous index
serving. An incremental update parses only the files whose bytes changed (the others' articles
come from the catalog) and re-indexes only articles whose content hash changed, inside the
current generation.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index

from indexer import keyword
from indexer.analysis import ANALYSIS_VERSION
from indexer.articles import Article, ArticleError, scan_articles
from indexer.catalog import Catalog, load_categories
from indexer.generation import Generation, IndexFolder, write_atomic
from indexer.postings import write_missing_caches
from indexer.progress import Progress
from indexer.segments import build_segments, merge_small_segments
from indexer.synonyms import load_synonyms


@dataclass
class IndexReport:
    generation: str = ""
    full: bool = False
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    errors: list[ArticleError] = field(default_factory=list)
    parsed: int = 0          # files parsed; the others' articles were reused from the catalog
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        kind = "full rebuild" if self.full else "incremental update"
        return (f"{kind} {self.generation}: {len(self.added)} added, {len(self.updated)} updated, "
                f"{len(self.removed)} removed, {self.unchanged} unchanged, {len(self.errors)} errors "
                f"in {self.seconds:.2f}s")


def _read_manifest(generation: Generation) -> dict[str, str]:
    path = generation.manifest
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _same_analysis(generation: Generation) -> bool:
    """Whether the generation's terms were made by this version of the analyzers (a generation
    written before versions were recorded: no)."""
    try:
        return json.loads(generation.analysis.read_text(encoding="utf-8"))["version"] == ANALYSIS_VERSION
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _read_file_stats(generation: Generation) -> dict[str, list]:
    """The previous scan's ``Scan.stats`` (a cache: {} when missing or unreadable)."""
    try:
        return json.loads(generation.file_stats.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _reusable_articles(generation: Generation, categories: dict) -> dict[str, tuple[str, Article]]:
    """file path -> (raw hash, article) from the generation's catalog ({} if it cannot be read,
    or if it was parsed against other categories: an unchanged file may name one that is gone).
    The catalog and its file hashes are written together, so they always describe each other,
    even when a crash left the manifest behind (the manifest diff then re-indexes)."""
    try:
        catalog = Catalog.load(generation.catalog)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return catalog.reusable() if set(catalog.categories) == set(categories) else {}


def write_generation_files(generation: Generation, articles: list[Article], categories: dict,
                           synonyms: list[list[str]],
                           files: dict[str, tuple[str, str]] | None = None) -> None:
    """Catalog first, manifest last: a manifest on disk means everything before it is complete.
    Abstention floors calibrated on the previous content are dropped (the service recalibrates)."""
    generation.floors.unlink(missing_ok=True)
    write_atomic(generation.synonyms, json.dumps(synonyms, ensure_ascii=False))
    write_atomic(generation.analysis, json.dumps({"version": ANALYSIS_VERSION}))
    tmp = generation.catalog.with_name(generation.catalog.name + ".tmp")
    Catalog(articles, categories, files).save(tmp)
    os.replace(tmp, generation.catalog)
    write_atomic(generation.manifest, json.dumps({a.id: a.content_hash for a in articles}))


def _full_build(folder: IndexFolder, articles: list[Article], categories: dict, synonyms, files,
                embedder, progress) -> Generation:
    generation = folder.new_generation()
    try:
        generation.whoosh.mkdir()
        ix = whoosh_index.create_in(generation.whoosh, keyword.build_schema())
        articles = build_segments(ix, articles, progress)
        _update_vectors(generation, folder.current(), articles, embedder, progress)
        write_generation_files(generation, articles, categories, synonyms, files)
    except BaseException:
        shutil.rmtree(generation.path, ignore_errors=True)
        raise
    folder.serve(generation)
    folder.prune(keep=generation)
    return generation


def _add_articles(writer, articles: list[Article], progress: Progress | None) -> None:
    if progress is not None:
        progress.stage("indexing articles", len(articles))
    for article in articles:
        keyword.add_article(writer, article)
        if progress is not None:
            progress.advance()


def _incremental(generation: Generation, articles: list[Article], categories: dict, synonyms, files,
                 report: IndexReport, embedder, progress) -> None:
    old = _read_manifest(generation)
    new = {a.id: a for a in articles}
    report.added = [i for i in new if i not in old]
    report.updated = [i for i in new if i in old and old[i] != new[i].content_hash]
    report.removed = [i for i in old if i not in new]
    report.unchanged = len(new) - len(report.added) - len(report.updated)
    if report.changed:
        ix = whoosh_index.open_dir(generation.whoosh)
        writer = ix.writer()
        try:
            # "added" too: after a run that died between the commit and the manifest, they are
            # already in the index and must not be indexed twice
            for article_id in report.updated + report.removed + report.added:
                keyword.delete_article(writer, article_id)
            _add_articles(writer, [new[i] for i in report.added + report.updated], progress)
        except BaseException:
            writer.cancel()   # nothing half-applied; the lock is released for the next run
            raise
        writer.commit(mergetype=merge_small_segments)
        _warm_postings(ix)
    _update_vectors(generation, generation, articles, embedder, progress)
    write_generation_files(generation, articles, categories, synonyms, files)


def _warm_postings(ix) -> None:
    """Write the ranker's postings cache of new segments now, so that ``kb index`` pays for it
    and not the first search a server answers after the swap."""
    with ix.reader() as reader:
        write_missing_caches(reader, Path(ix.storage.folder), keyword.LAYOUT)


def _update_vectors(target: Generation, previous: Generation | None, articles, embedder, progress) -> None:
    """Section embeddings beside the keyword index (only when semantic search is enabled)."""
    if embedder is None:
        return
    from indexer.vectors import update_vectors
    update_vectors(target, previous, articles, embedder, progress=progress)


def build_index(articles_dir: str | Path, index_dir: str | Path, embedder=None, full: bool = False,
                progress: Progress | None = None) -> IndexReport:
    """Index the articles under ``articles_dir``; broken articles are reported and skipped.

    An incremental update parses only new and changed files (and files that had errors); a
    full rebuild (forced, or when the served generation was analyzed by another version of
    ``indexer.analysis``) parses everything, then renders and indexes in worker processes
    (``indexer.segments``)."""
    started = time.perf_counter()
    folder = IndexFolder(index_dir)
    folder.path.mkdir(parents=True, exist_ok=True)
    generation = folder.current()
    full = (full or generation is None or not generation.manifest.exists()
            or not _same_analysis(generation))
    categories = load_categories(articles_dir)
    scan = (scan_articles(articles_dir, render=False) if full else
            scan_articles(articles_dir, _reusable_articles(generation, categories),
                          _read_file_stats(generation)))
    articles = scan.articles
    synonyms = load_synonyms(articles_dir)
    report = IndexReport(errors=scan.errors, parsed=len(scan.parsed))
    if full:
        report.full = True
        report.added = [a.id for a in articles]
        generation = _full_build(folder, articles, categories, synonyms, scan.files, embedder, progress)
    else:
        _incremental(generation, articles, categories, synonyms, scan.files, report, embedder, progress)
    write_atomic(generation.file_stats, json.dumps(scan.stats))
    report.generation = generation.name
    report.seconds = time.perf_counter() - started
    return report
