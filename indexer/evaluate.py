"""``kb eval``: retrieval quality on a BEIR-layout folder, through the product's own search code.

The corpus is written out as Markdown articles in a temporary folder, indexed with
``build_index`` and searched with ``SearchService.search`` -- the same path the API takes, so
whatever the product does to a query (abstaining included) is what is measured. Mode ``plain``
is the untuned Whoosh BM25F baseline of ``indexer.baseline`` on the same corpus.

Queries of other sets that the corpus cannot answer (``unanswerable``) measure abstention: the
share of them that get no result at all.
"""
from __future__ import annotations

import json
import math
import re
import statistics
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

import yaml

from indexer.analysis import detect_language
from indexer.baseline import PlainBM25
from indexer.index import build_index
from indexer.search import MODES as PRODUCT_MODES
from indexer.search import SearchService

METRIC_KEYS = ("ndcg@10", "recall@5", "mrr@10", "zero_result_rate", "queries", "mean_ms", "p95_ms",
               "mean_results")
ABSTENTION_KEYS = ("abstain_rate", "unanswerable_queries", "unanswerable_mean_results")
PEER_PREFIX = "peer_postgres_"
PEER_KEYS = tuple(PEER_PREFIX + key for key in ("ndcg@10", "recall@5", "mrr@10", "zero_result_rate",
                                              "mean_ms", "p95_ms", "mean_results"))
MODES = ("plain",) + PRODUCT_MODES
TOP = 10

# query text -> (ids of the top documents, best first; number of documents matched)
Search = Callable[[str], tuple[list[str], int]]


def load_queries(path: str | Path) -> list[dict]:
    """The ``{"_id", "text", ...}`` objects of a JSON-lines file (BEIR queries format)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def load_beir(path: str | Path) -> tuple[list[dict], list[dict], dict[str, set[str]]]:
    """(corpus, queries, qrels) of a BEIR folder; qrels maps query id -> relevant doc ids."""
    path = Path(path)
    qrels: dict[str, set[str]] = {}
    for line in (path / "qrels.tsv").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[2].strip().isdigit() and int(parts[2]) > 0:
            qrels.setdefault(parts[0], set()).add(parts[1])
    return load_queries(path / "corpus.jsonl"), load_queries(path / "queries.jsonl"), qrels


def slug_for(doc_id: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", doc_id.lower()).strip("-") or "doc"


def write_corpus(corpus: list[dict], target: Path, language: str | None) -> dict[str, str]:
    """Write each document as an article; returns slug -> document id."""
    slugs = {}
    for doc in corpus:
        slug = slug_for(str(doc["_id"]))
        while slug in slugs:
            slug += "-x"
        slugs[slug] = str(doc["_id"])
        title, text = doc.get("title") or slug, doc.get("text") or ""
        meta = {"title": title, "slug": slug,
                "language": language or detect_language(f"{title} {text[:1000]}")}
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
        (target / f"{slug}.md").write_text(f"---\n{front}---\n{text}\n", encoding="utf-8")
    return slugs


def corpus_language(corpus: list[dict], queries: list[dict]) -> str:
    """The language most of the documents and queries are in (one analyzer for ``plain``)."""
    texts = [f"{d.get('title') or ''} {(d.get('text') or '')[:1000]}" for d in corpus]
    texts += [q["text"] for q in queries]
    return Counter(detect_language(t) for t in texts).most_common(1)[0][0]


def metrics(ranked: list[str], relevant: set[str]) -> tuple[float, float, float]:
    """nDCG@10, Recall@5, MRR@10 of one query (binary relevance)."""
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    recall = len(set(ranked[:5]) & relevant) / len(relevant)
    rr = next((1 / (i + 1) for i, d in enumerate(ranked[:10]) if d in relevant), 0.0)
    return dcg / ideal if ideal else 0.0, recall, rr


def _mean(values) -> float:
    return round(statistics.fmean(values), 4) if values else 0.0


def miss(query: dict, ranked: list[str], relevant: set[str], total: int) -> dict | None:
    """The query as a ``misses`` entry when no relevant document is in the top 5: its first
    relevant document's rank in the top 10 (None: not there) and how many results it got."""
    ranks = [rank for rank, doc in enumerate(ranked[:TOP], 1) if doc in relevant]
    if ranks and ranks[0] <= 5:
        return None
    return {"_id": str(query["_id"]), "text": query["text"], "rank": ranks[0] if ranks else None,
            "results": total}


def run_queries(search: Search, queries: list[dict], qrels: dict[str, set[str]],
                misses: list[dict] | None = None) -> dict:
    """METRIC_KEYS over the queries that have judgments; the queries missed in the top 5 are
    appended to ``misses`` when given (``miss``)."""
    scores, latencies, totals = [], [], []
    for q in queries:
        relevant = qrels.get(str(q["_id"]))
        if not relevant:
            continue
        started = time.perf_counter()
        ranked, total = search(q["text"])
        latencies.append((time.perf_counter() - started) * 1000)
        scores.append(metrics(ranked, relevant))
        totals.append(total)
        missed = miss(q, ranked, relevant, total) if misses is not None else None
        if missed:
            misses.append(missed)
    latencies.sort()
    return {
        "ndcg@10": _mean([s[0] for s in scores]),
        "recall@5": _mean([s[1] for s in scores]),
        "mrr@10": _mean([s[2] for s in scores]),
        "zero_result_rate": _mean([total == 0 for total in totals]),
        "queries": len(scores),
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else 0.0,
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2) if latencies else 0.0,
        "mean_results": round(statistics.fmean(totals), 2) if totals else 0.0,
    }


def abstention(search: Search, unanswerable: dict[str, list[dict]]) -> dict:
    """ABSTENTION_KEYS (scalars) and ``abstain_rate_by_file``: how often queries the corpus
    cannot answer get no result at all, over all files together and per file."""
    totals = {name: [search(q["text"])[1] for q in queries] for name, queries in unanswerable.items()}
    every = [total for file_totals in totals.values() for total in file_totals]
    return {
        "abstain_rate": _mean([total == 0 for total in every]),
        "unanswerable_queries": len(every),
        "unanswerable_mean_results": round(statistics.fmean(every), 2) if every else 0.0,
        "abstain_rate_by_file": {name: _mean([total == 0 for total in file_totals])
                                 for name, file_totals in totals.items()},
    }


def product_search(service: SearchService, slugs: dict[str, str], mode: str,
                   language: str | None) -> Search:
    def search(text: str) -> tuple[list[str], int]:
        results = service.search(text, language=language, mode=mode, per_page=TOP)
        return [slugs[h.slug] for h in results.hits], results.total
    return search


def open_searches(corpus, queries, modes, language, embedder, settings, tmp: Path,
                   stack: ExitStack) -> Callable[[str, str | None], Search]:
    """Index the corpus for the modes asked; returns (mode, query language) -> Search."""
    service = slugs = plain = None
    if any(mode != "plain" for mode in modes):
        articles_dir = tmp / "articles"
        articles_dir.mkdir()
        slugs = write_corpus(corpus, articles_dir, language)
        report = build_index(articles_dir, tmp / "index", embedder=embedder)
        if report.errors:
            raise RuntimeError(f"corpus did not index cleanly: {report.errors[0]}")
        service = SearchService(tmp / "index", embedder=embedder, settings=settings)
    if "plain" in modes:
        plain = PlainBM25(corpus, tmp / "plain", language or corpus_language(corpus, queries))
        stack.callback(plain.close)

    def searches(mode: str, query_language: str | None) -> Search:
        if mode == "plain":
            return lambda text: plain.search(text, TOP)
        return product_search(service, slugs, mode, query_language)
    return searches


def peer_postgres(corpus: list[dict], queries: list[dict], qrels: dict[str, set[str]],
                  url: str, language: str | None) -> dict:
    """PEER_KEYS: the same queries through PostgreSQL full-text search at ``url``."""
    from indexer.peer_postgres import PostgresFTS   # needs psycopg: only when asked for
    peer = PostgresFTS(corpus, url, language)
    try:
        measured = run_queries(peer.search, queries, qrels)
    finally:
        peer.close()
    return {key: measured[key.removeprefix(PEER_PREFIX)] for key in PEER_KEYS}


def evaluate(path: str | Path, modes=("keyword",), language: str | None = None,
             embedder=None, settings=None, unanswerable=(),
             peer_url: str | None = None, misses: bool = False) -> dict[str, dict]:
    """Metrics per mode for one BEIR folder (the corpus is indexed once for all modes).

    ``unanswerable``: query files (BEIR queries format) to run against the same corpus; adds
    ABSTENTION_KEYS. ``language`` is that of PATH's corpus and queries; the unanswerable
    queries' language is detected per query, as the API does when none is given.
    ``peer_url``: a PostgreSQL database to run the same queries in with its full-text search;
    adds PEER_KEYS to every mode's metrics, for the comparison side by side.
    ``misses``: adds ``misses`` to every mode's metrics, the queries it missed (``miss``).
    """
    corpus, queries, qrels = load_beir(path)
    others = {str(file): load_queries(file) for file in unanswerable}
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as tmp, ExitStack() as stack:
        searches = open_searches(corpus, queries, modes, language, embedder, settings,
                                  Path(tmp), stack)
        results = {}
        for mode in modes:
            missed = [] if misses else None
            results[mode] = run_queries(searches(mode, language), queries, qrels, missed)
            if misses:
                results[mode]["misses"] = missed
            if unanswerable:
                results[mode].update(abstention(searches(mode, None), others))
    if peer_url:
        peer = peer_postgres(corpus, queries, qrels, peer_url, language)
        for metrics_of_mode in results.values():
            metrics_of_mode.update(peer)
    return results
