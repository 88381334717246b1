"""The index folder and its generations: the one place that knows their paths and file names.

Layout of the index folder::

    index/
      CURRENT            name of the generation being served (replaced atomically)
      indexing.json      progress of a build under way (read by the server's health)
      gen-<time>-<n>/
        whoosh/          keyword index (indexer.keyword)
        catalog.json     articles of this generation (indexer.catalog), with the raw hash of
                         each article's file
        manifest.json    article id -> content hash, for incremental updates
        synonyms.json    synonym groups of this generation (indexer.synonyms)
        vectors.npz      section embeddings (indexer.vectors), when semantic search is on
        analysis.json    the text analysis its terms were made by (``indexer.analysis``)
        file-stats.json  size, modification time and hash of each article file: files whose
                         size and time did not change are not even read next time
        floors.json      abstention floors calibrated on this generation, per model
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

CURRENT = "CURRENT"
PREFIX = "gen-"


@dataclass(frozen=True)
class Generation:
    """One generation folder of the index, and the paths of its files."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def whoosh(self) -> Path:
        return self.path / "whoosh"

    @property
    def catalog(self) -> Path:
        return self.path / "catalog.json"

    @property
    def manifest(self) -> Path:
        return self.path / "manifest.json"

    @property
    def vectors(self) -> Path:
        return self.path / "vectors.npz"

    @property
    def synonyms(self) -> Path:
        return self.path / "synonyms.json"

    @property
    def analysis(self) -> Path:
        return self.path / "analysis.json"

    @property
    def file_stats(self) -> Path:
        return self.path / "file-stats.json"

    @property
    def floors(self) -> Path:
        """Abstention floors calibrated on this generation (``indexer.abstention``)."""
        return self.path / "floors.json"

    @property
    def builder(self) -> Path:
        """Process id of the build writing this generation (removed when it is complete)."""
        return self.path / "BUILDING"

    @property
    def complete(self) -> bool:
        """Fully written: the manifest is the last file a build writes."""
        return self.manifest.exists()

    def being_built(self) -> bool:
        """A build process that is still alive is writing this generation."""
        try:
            pid = int(self.builder.read_text())
        except (OSError, ValueError):
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:   # alive, another user's
            return True
        return True

    def order(self) -> tuple:
        """Sort key, oldest first: ``gen-<time>-<n>`` by time, then n as a number (``-10``
        after ``-9``)."""
        stamp, _, n = self.name[len(PREFIX):].rpartition("-")
        return (stamp, int(n)) if n.isdigit() else (self.name, -1)


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` at once: a reader sees the old file or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class IndexFolder:
    """The index folder: its generations and the ``CURRENT`` pointer to the served one."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @property
    def pointer(self) -> Path:
        return self.path / CURRENT

    @property
    def progress_file(self) -> Path:
        """Progress of the build under way (``indexer.progress``), for other processes."""
        return self.path / "indexing.json"

    def current(self) -> Generation | None:
        """The generation being served, or None before the first build."""
        if not self.pointer.exists():
            return None
        generation = Generation(self.path / self.pointer.read_text().strip())
        return generation if generation.path.is_dir() else None

    def new_generation(self) -> Generation:
        """A new, empty generation folder that sorts after every existing one."""
        self.path.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        # Never reuse a pruned name: a new generation must sort after every existing one, or
        # pruning would take it for old (and could delete the one a server is still reading).
        taken = [int(p.name.rsplit("-", 1)[1]) for p in self.path.glob(f"{PREFIX}{stamp}-*")
                 if p.name.rsplit("-", 1)[1].isdigit()]
        for n in range(max(taken, default=-1) + 1, 100_000):
            path = self.path / f"{PREFIX}{stamp}-{n}"
            try:
                path.mkdir()
            except FileExistsError:   # another build took it a moment ago
                continue
            generation = Generation(path)
            generation.builder.write_text(str(os.getpid()))
            return generation
        raise RuntimeError("cannot create a new index generation")

    def serve(self, generation: Generation) -> None:
        """Point ``CURRENT`` at the complete ``generation`` (atomically)."""
        generation.builder.unlink(missing_ok=True)
        write_atomic(self.pointer, generation.name)

    def generations(self) -> list[Generation]:
        """Every generation folder, oldest first."""
        return sorted((Generation(p) for p in self.path.glob(f"{PREFIX}*") if p.is_dir()),
                      key=Generation.order)

    def last_good(self, before: Generation | None = None) -> Generation | None:
        """The newest complete generation other than ``before`` (a fallback when the served
        one cannot be read)."""
        complete = [g for g in self.generations() if g.complete and g != before
                    and not g.builder.exists()]
        return complete[-1] if complete else None

    def prune(self, keep: Generation) -> None:
        """Keep ``keep`` (just served) and the last good generation before it (a reader may
        still have it open, and it is the fallback); remove the rest, including orphans that a
        killed build left half-written. A generation another live build is writing stays."""
        fallback = self.last_good(before=keep)
        for old in self.generations():
            if old not in (keep, fallback) and not old.being_built():
                shutil.rmtree(old.path, ignore_errors=True)


def current_generation(index_dir: str | Path) -> Generation | None:
    """The generation being served in ``index_dir``, or None before the first build."""
    return IndexFolder(index_dir).current()
