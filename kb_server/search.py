"""The seam between views and the search backend (after Miguel Grinberg's microblog).

Views call ``search``, ``suggest`` and ``reindex`` here and never touch Whoosh or embeddings,
so the backend can change without touching a view.
"""
from __future__ import annotations

import logging
import sys

from flask import Flask, current_app

from indexer.index import IndexReport, build_index
from indexer.search import RankingSettings, SearchResults, SearchService

log = logging.getLogger(__name__)


def _load_embedder(spec: str):
    """The configured embedder, or None (keyword-only, degraded) with the reason logged."""
    if spec in ("", "none"):
        return None, "disabled"
    from indexer.embeddings import EmbedderUnavailable, load_embedder
    try:
        return load_embedder(spec), None
    except EmbedderUnavailable as exc:
        log.error("semantic search disabled, serving keyword search only: %s", exc)
        return None, str(exc)


def init_app(app: Flask) -> None:
    """Create the search service, after bringing the index up to date with the articles.

    The first run builds the index; later starts re-index only what changed while the server
    was down (and embed sections that have no vectors for the configured model yet).
    """
    embedder, problem = _load_embedder(app.config["EMBEDDER"])
    log.info("indexing %s", app.config["ARTICLES_DIR"])
    report = build_index(app.config["ARTICLES_DIR"], app.config["INDEX_DIR"], embedder=embedder,
                         progress=sys.stderr.isatty())
    for error in report.errors:
        log.warning("article skipped: %s", error)
    service = SearchService(app.config["INDEX_DIR"], embedder=embedder,
                            default_mode=app.config["SEARCH_MODE"], settings=ranking_settings(app))
    service.semantic_error = problem or service.semantic_error
    app.extensions["search"] = service


def ranking_settings(app: Flask | None = None) -> RankingSettings:
    config = (app or current_app).config
    return RankingSettings(**config.get("RANKING", {}))


def service() -> SearchService:
    return current_app.extensions["search"]


def embedder():
    return service().embedder


def search(query: str, **options) -> SearchResults:
    return service().search(query, **options)


def suggest(prefix: str, **options) -> list:
    return service().suggest(prefix, **options)


def reindex(full: bool = False, progress: bool = False) -> IndexReport:
    report = build_index(current_app.config["ARTICLES_DIR"], current_app.config["INDEX_DIR"],
                         embedder=service().embedder, full=full, progress=progress)
    service().reload()
    return report
