"""Prometheus metrics (``prometheus_client``): request and search latency, rate-limit
rejections, and the index being served, at ``GET /metrics``.

``kb serve`` forks worker processes behind one socket, so a scrape reaches any one of them:
the ``kb`` command sets ``PROMETHEUS_MULTIPROC_DIR`` before the app (and prometheus_client)
is loaded, each process writes its samples there, and ``/metrics`` adds them up
(prometheus_client's multiprocess mode). Without that variable (tests, one process) the
process's own registry answers.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time

from flask import Flask, g, request
from prometheus_client import (REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest,
                               multiprocess, values)
from prometheus_client.core import GaugeMetricFamily

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

REQUESTS = Counter("kb_http_requests", "HTTP requests answered", ("endpoint", "status"))
REQUEST_SECONDS = Histogram("kb_http_request_duration_seconds", "Time to answer an HTTP request",
                            ("endpoint",), buckets=LATENCY_BUCKETS)
SEARCH_SECONDS = Histogram("kb_search_duration_seconds", "Time to rank one search",
                           ("mode",), buckets=LATENCY_BUCKETS)
PASSAGE_VECTORS = Counter("kb_passage_vectors", "Passage vectors indexed: read from the store "
                          "the nodes share, or computed here", ("source",))
RATE_LIMITED = Counter("kb_ratelimit_rejections", "Requests refused by a rate limit (429)",
                       ("endpoint",))


def use_multiprocess_dir() -> None:
    """Called by ``kb serve`` before it forks workers: every process writes its samples to one
    fresh folder (removed when this process exits; workers leave with ``os._exit``).

    prometheus_client picks its value class when it is imported; every metric here has labels,
    so no value exists until a request is answered, and switching the class now is in time.
    """
    if os.environ.get(MULTIPROCESS_DIR):
        return
    folder = tempfile.mkdtemp(prefix="kb-metrics-")
    os.environ[MULTIPROCESS_DIR] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    values.ValueClass = values.get_value_class()


class IndexCollector:
    """The served index, read at scrape time: its generation's age and article count."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        from kb_server import follow, search   # imported late to keep this module a leaf
        with self.app.app_context():
            status = search.service().health()
            built = search.index_folder().current()
            following = follow.status(self.app.config)
        if following is not None:
            yield from _following(following)
        articles = GaugeMetricFamily("kb_index_articles", "Articles in the served index")
        articles.add_metric([], status["articles"])
        yield articles
        with_vectors = GaugeMetricFamily("kb_index_vector_articles",
                                         "Articles of the served index with vectors")
        with_vectors.add_metric([], status["vectors"]["articles"])
        yield with_vectors
        if built is not None and built.manifest.exists():
            age = GaugeMetricFamily("kb_index_age_seconds",
                                    "Seconds since the served index generation was written")
            age.add_metric([], max(0.0, time.time() - built.manifest.stat().st_mtime))
            yield age


def _following(state: dict):
    """The shared knowledge base's generation this node serves, and how far behind it is."""
    served = GaugeMetricFamily("kb_index_generation",
                               "Shared knowledge-base generation this node serves (-1: none yet)")
    served.add_metric([], -1 if state["generation_served"] is None else state["generation_served"])
    yield served
    lag = GaugeMetricFamily("kb_index_generation_lag",
                            "Shared generations published that this node does not serve yet")
    lag.add_metric([], state["lag"])
    yield lag


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response):
    endpoint = request.endpoint or "unmatched"
    started = g.pop("metrics_started", None)
    if started is not None:
        REQUEST_SECONDS.labels(endpoint).observe(time.perf_counter() - started)
    REQUESTS.labels(endpoint, str(response.status_code)).inc()
    if response.status_code == 429:
        RATE_LIMITED.labels(endpoint).inc()
    return response


def exposition(app: Flask) -> bytes:
    """The metrics text: this server's processes added up (or this process's), then the index."""
    if os.environ.get(MULTIPROCESS_DIR):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    return generate_latest(processes) + generate_latest(app.extensions["metrics_index"])


def init_app(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
    index = CollectorRegistry()
    index.register(IndexCollector(app))
    app.extensions["metrics_index"] = index
