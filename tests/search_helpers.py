"""Helpers for the search-foundation tests (indexer/): small knowledge bases written on the fly.

Tests that need articles the shared fixture KB (``tests/fixtures/articles``) does not have
write them into a temporary folder with ``write_article`` instead of adding to the shared
fixture, so other engineers' rankings never move.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from indexer.index import build_index
from indexer.search import SearchService

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_KB = FIXTURES / "articles"
BROKEN_KB = FIXTURES / "broken"
BEIR_TINY = FIXTURES / "beir_tiny"


def write_article(root: Path, language: str, slug: str, title: str, body: str, **meta) -> Path:
    """Write ``root/<language>/<slug>.md`` with YAML front matter; returns the path."""
    front = {"title": title, "slug": slug, "language": language, **meta}
    path = Path(root) / language / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
                    + "---\n" + body.strip() + "\n", encoding="utf-8")
    return path


def copy_fixture_kb(target: Path) -> Path:
    shutil.copytree(FIXTURE_KB, target)
    return target


def build_service(articles_dir: Path, index_dir: Path) -> SearchService:
    """Index ``articles_dir`` (keyword only) and open a search service on it."""
    report = build_index(articles_dir, index_dir)
    assert not report.errors, report.errors
    return SearchService(index_dir)


def ids(results) -> list[str]:
    """Article ids of a result list (``SearchResults`` or a list of hits)."""
    hits = getattr(results, "hits", results)
    return [h.id for h in hits]
