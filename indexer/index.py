"""Building the index: articles on disk -> Whoosh sections + catalog (+ vectors), generation by generation.

Layout of the index folder::

    index/
      CURRENT            name of the generation being served (replaced atomically)
      gen-<time>-<n>/
        whoosh/          keyword index (indexer.keyword)
        catalog.json     articles of this generation (indexer.catalog), with the raw hash of
                         each article's file
        manifest.json    article id -> content hash, for incremental updates
        file-stats.json  size, modification time and hash of each article file: files whose
                         size and time did not change are not even read next time

A full rebuild writes a new generation beside the served one and switches ``CURRENT`` only when
it is complete, so a crash mid-rebuild leaves the previous index serving. An incremental update
parses only the files whose bytes changed (the others' articles come from the catalog) and
re-indexes only articles whose content hash changed, inside the current generation.
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
from indexer.articles import Article, ArticleError, scan_articles
from indexer.catalog import Catalog, load_categories
from indexer.postings import write_missing_caches
from indexer.synonyms import load_synonyms

CURRENT = "CURRENT"
SYNONYMS = "synonyms.json"
FILE_STATS = "file-stats.json"
KEEP_GENERATIONS = 2


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


def current_generation(index_dir: str | Path) -> Path | None:
    """The generation folder being served, or None before the first build."""
    pointer = Path(index_dir) / CURRENT
    if not pointer.exists():
        return None
    generation = Path(index_dir) / pointer.read_text().strip()
    return generation if generation.is_dir() else None


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _new_generation(index_dir: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    # Never reuse a pruned name: a new generation must sort after every existing one, or
    # pruning would take it for old (and could delete the one a server is still reading).
    taken = [int(p.name.rsplit("-", 1)[1]) for p in index_dir.glob(f"gen-{stamp}-*")
             if p.name.rsplit("-", 1)[1].isdigit()]
    for n in range(max(taken, default=-1) + 1, 100_000):
        path = index_dir / f"gen-{stamp}-{n}"
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:   # another build took it a moment ago
            continue
    raise RuntimeError("cannot create a new index generation")


def _generation_order(path: Path) -> tuple:
    """Oldest first: ``gen-<time>-<n>`` by time, then n as a number (``-10`` after ``-9``)."""
    stamp, _, n = path.name[len("gen-"):].rpartition("-")
    return (stamp, int(n)) if n.isdigit() else (path.name, -1)


def _prune(index_dir: Path, keep: Path) -> None:
    """Remove old generations, keeping the newest few (a reader may still have one open)."""
    generations = sorted((p for p in index_dir.glob("gen-*") if p.is_dir() and p != keep),
                         key=_generation_order)
    for old in generations[:max(0, len(generations) - (KEEP_GENERATIONS - 1))]:
        shutil.rmtree(old, ignore_errors=True)


def _read_manifest(generation: Path) -> dict[str, str]:
    path = generation / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _read_file_stats(generation: Path) -> dict[str, list]:
    """The previous scan's ``Scan.stats`` (a cache: {} when missing or unreadable)."""
    try:
        return json.loads((generation / FILE_STATS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _reusable_articles(generation: Path) -> dict[str, tuple[str, Article]]:
    """file path -> (raw hash, article) from the generation's catalog ({} if it cannot be read).
    The catalog and its file hashes are written together, so they always describe each other,
    even when a crash left the manifest behind (the manifest diff then re-indexes)."""
    try:
        return Catalog.load(generation / "catalog.json").reusable()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def write_generation_files(generation: Path, articles: list[Article], categories: dict,
                           synonyms: list[list[str]],
                           files: dict[str, tuple[str, str]] | None = None) -> None:
    """Catalog first, manifest last: a manifest on disk means everything before it is complete."""
    _write_atomic(generation / SYNONYMS, json.dumps(synonyms, ensure_ascii=False))
    Catalog(articles, categories, files).save(generation / "catalog.json.tmp")
    os.replace(generation / "catalog.json.tmp", generation / "catalog.json")
    _write_atomic(generation / "manifest.json", json.dumps({a.id: a.content_hash for a in articles}))


def _full_build(index_dir: Path, articles: list[Article], categories: dict, synonyms, files,
                embedder, progress) -> Path:
    generation = _new_generation(index_dir)
    try:
        (generation / "whoosh").mkdir()
        ix = whoosh_index.create_in(generation / "whoosh", keyword.build_schema())
        writer = ix.writer(limitmb=256, procs=1)
        try:
            for article in articles:
                keyword.add_article(writer, article)
        except BaseException:
            writer.cancel()   # release the index lock and files before the folder is removed
            raise
        writer.commit()
        _warm_postings(ix)
        _update_vectors(generation, current_generation(index_dir), articles, embedder, progress)
        write_generation_files(generation, articles, categories, synonyms, files)
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        raise
    _write_atomic(index_dir / CURRENT, generation.name)
    _prune(index_dir, keep=generation)
    return generation


def _incremental(generation: Path, articles: list[Article], categories: dict, synonyms, files,
                 report: IndexReport, embedder, progress) -> None:
    old = _read_manifest(generation)
    new = {a.id: a for a in articles}
    report.added = [i for i in new if i not in old]
    report.updated = [i for i in new if i in old and old[i] != new[i].content_hash]
    report.removed = [i for i in old if i not in new]
    report.unchanged = len(new) - len(report.added) - len(report.updated)
    if report.changed:
        ix = whoosh_index.open_dir(generation / "whoosh")
        writer = ix.writer()
        try:
            # "added" too: after a run that died between the commit and the manifest, they are
            # already in the index and must not be indexed twice
            for article_id in report.updated + report.removed + report.added:
                keyword.delete_article(writer, article_id)
            for article_id in report.added + report.updated:
                keyword.add_article(writer, new[article_id])
        except BaseException:
            writer.cancel()   # nothing half-applied; the lock is released for the next run
            raise
        writer.commit()
        _warm_postings(ix)
    _update_vectors(generation, generation, articles, embedder, progress)
    write_generation_files(generation, articles, categories, synonyms, files)


def _warm_postings(ix) -> None:
    """Write the ranker's postings cache of new segments now, so that ``kb index`` pays for it
    and not the first search a server answers after the swap."""
    with ix.reader() as reader:
        write_missing_caches(reader, Path(ix.storage.folder), keyword.LAYOUT)


def _update_vectors(target: Path, previous: Path | None, articles, embedder, progress) -> None:
    """Section embeddings beside the keyword index (only when semantic search is enabled)."""
    if embedder is None:
        return
    from indexer.vectors import update_vectors
    update_vectors(target, previous, articles, embedder, progress=progress)


def build_index(articles_dir: str | Path, index_dir: str | Path, embedder=None, full: bool = False,
                progress: bool = False) -> IndexReport:
    """Index the articles under ``articles_dir``; broken articles are reported and skipped.

    An incremental update parses only new and changed files (and files that had errors); a
    full rebuild parses everything."""
    started = time.perf_counter()
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    generation = current_generation(index_dir)
    full = full or generation is None or not (generation / "manifest.json").exists()
    scan = (scan_articles(articles_dir) if full else
            scan_articles(articles_dir, _reusable_articles(generation), _read_file_stats(generation)))
    articles = scan.articles
    categories = load_categories(articles_dir)
    synonyms = load_synonyms(articles_dir)
    report = IndexReport(errors=scan.errors, parsed=len(scan.parsed))
    if full:
        generation = _full_build(index_dir, articles, categories, synonyms, scan.files, embedder, progress)
        report.full = True
        report.added = [a.id for a in articles]
    else:
        _incremental(generation, articles, categories, synonyms, scan.files, report, embedder, progress)
    _write_atomic(generation / FILE_STATS, json.dumps(scan.stats))
    report.generation = generation.name
    report.seconds = time.perf_counter() - started
    return report
