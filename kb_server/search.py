"""The seam between views and the search backend (after Miguel Grinberg's microblog).

Views call ``search``, ``suggest``, ``health`` and ``reindex`` here and never touch Whoosh or
embeddings, so the backend can change without touching a view.

``init_app`` only opens the index generation being served (if any). The embedding model is
loaded once, on demand, in a background thread (``Semantic``): until it is ready, searches are
answered by keyword ranking and say so (``mode``), and ``/api/v1/health`` shows what is ready.
``kb serve`` starts that load at once and embeds the articles that have no vectors yet in the
background (``embed_in_background``), switching to hybrid ranking when they are ready.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import Flask, current_app

from indexer.generation import IndexFolder
from indexer.index import IndexReport, build_index
from indexer.progress import Progress, read_state
from indexer.search import RankingSettings, SearchResults, SearchService
from kb_server import metrics, shared_kb, shared_vectors

log = logging.getLogger(__name__)
# One embedding run at a time in a process: a second waits for the first (which may take hours
# on a large knowledge base), then finds its vectors stored and embeds only what is still new.
embedding = threading.Lock()


class Semantic:
    """The configured embedder (``EMBEDDER``), loaded at most once per process."""

    def __init__(self, spec: str):
        self.spec = (spec or "").strip()
        self.embedder = None
        self.error: str | None = None
        self.state = "disabled" if self.spec in ("", "none") else "not loaded"
        self._lock = threading.Lock()

    def load(self, service: SearchService):
        """Load the model (blocking) and give it to ``service``; None if it cannot be loaded
        (the reason is logged and shown by health: keyword search still serves)."""
        with self._lock:
            if self.state in ("not loaded", "loading"):
                self._load(service)
            return self.embedder

    def _load(self, service: SearchService) -> None:
        from indexer.embeddings import EmbedderUnavailable, load_embedder
        self.state = "loading"
        try:
            self.embedder = load_embedder(self.spec)
        except EmbedderUnavailable as exc:
            log.error("semantic search disabled, serving keyword search only: %s", exc)
            self.error, self.state = str(exc), "failed"
            return
        service.attach_embedder(self.embedder)
        self.state = "ready"

    def start(self, service: SearchService) -> None:
        """Load in a background thread, unless loaded, loading or disabled."""
        if self.state == "not loaded" and not self._lock.locked():
            self.state = "loading"
            threading.Thread(target=self.load, args=(service,), name="load-embedder",
                             daemon=True).start()


def init_app(app: Flask) -> None:
    """Open the served index generation, if there is one (nothing is built or loaded here)."""
    app.extensions["search"] = SearchService(
        app.config["INDEX_DIR"], default_mode=app.config["SEARCH_MODE"],
        settings=ranking_settings(app), cache_size=app.config["SEARCH_CACHE_SIZE"])
    app.extensions["semantic"] = Semantic(app.config["EMBEDDER"])
    app.extensions["indexing"] = Progress()


def ranking_settings(app: Flask | None = None) -> RankingSettings:
    config = (app or current_app).config
    return RankingSettings(fusion=config["FUSION"], semantic_weight=config["SEMANTIC_WEIGHT"])


def service() -> SearchService:
    return current_app.extensions["search"]


def semantic() -> Semantic:
    return current_app.extensions["semantic"]


def embedder():
    """The configured embedder, loaded now if it was not yet (None if it cannot be)."""
    return semantic().load(service())


def search(query: str, **options) -> SearchResults:
    if (options.get("mode") or service().default_mode) != "keyword":
        semantic().start(service())   # answered by keyword ranking until the model is ready
    started = time.perf_counter()
    results = service().search(query, **options)
    metrics.SEARCH_SECONDS.labels(results.mode).observe(time.perf_counter() - started)
    return results


def suggest(prefix: str, **options) -> list:
    return service().suggest(prefix, **options)


def health() -> dict:
    """What is ready: keyword index, vectors (articles with vectors / articles), mode, and the
    background indexing under way, if any."""
    semantic().start(service())
    status = service().health()
    loader = semantic()
    if loader.state in ("not loaded", "loading"):
        status["semantic"] = "loading model"
    elif loader.state == "failed":   # the reason (paths included) is in the log only
        status["semantic"] = "model unavailable (the server log says why)"
    status["indexing"] = (current_app.extensions["indexing"].snapshot()
                          or read_state(index_folder().progress_file) or None)
    return status


def index_folder() -> IndexFolder:
    return IndexFolder(current_app.config["INDEX_DIR"])


def progress_reporter(bar: bool, emit=None) -> Progress:
    """Progress of a build in this process, visible to the server's health in every process."""
    folder = index_folder()
    folder.path.mkdir(parents=True, exist_ok=True)
    return Progress(bar=bar, emit=emit, state_file=folder.progress_file)


def reindex(full: bool = False, progress: Progress | None = None,
            with_vectors: bool = True) -> IndexReport:
    """Bring the index up to date with the articles (and their vectors when ``with_vectors``
    and a model is configured), then serve the result."""
    model = embedder() if with_vectors else None
    if model is not None and shared_kb.followed(current_app.config):
        model = shared_vectors.wrap(model)     # what another node embedded is read, not embedded
    report = build_index(current_app.config["ARTICLES_DIR"], current_app.config["INDEX_DIR"],
                         embedder=model, full=full, progress=progress)
    service().reload()
    return report


def embed_in_background(app: Flask) -> threading.Thread | None:
    """Load the model and embed the sections that have no vectors yet, in a thread; the service
    switches to hybrid ranking when the vectors are written. None when semantic search is off."""
    if app.extensions["semantic"].state == "disabled":
        return None

    def run() -> None:
        with app.app_context():
            progress = current_app.extensions["indexing"]
            try:
                if embedder() is None:
                    return
                with embedding:
                    report = reindex(progress=progress)
                log.info("semantic search ready: %s", report.summary())
            except Exception:   # keyword search keeps serving; the reason is in the log
                log.exception("background embedding failed")
            finally:
                progress.finish()

    thread = threading.Thread(target=run, name="embed-articles", daemon=True)
    thread.start()
    return thread

