"""``kb eval``: retrieval quality on a BEIR-layout folder, through the product's own search code.

The corpus is written out as Markdown articles in a temporary folder, indexed with
``build_index`` and searched with ``SearchService.search`` -- the same path the API takes.
"""
from __future__ import annotations

import json
import math
import re
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from indexer.analysis import detect_language
from indexer.index import build_index
from indexer.search import SearchService

METRIC_KEYS = ("ndcg@10", "recall@5", "mrr@10", "zero_result_rate", "queries", "mean_ms", "p95_ms")


def load_beir(path: str | Path) -> tuple[list[dict], list[dict], dict[str, set[str]]]:
    """(corpus, queries, qrels) of a BEIR folder; qrels maps query id -> relevant doc ids."""
    path = Path(path)
    read = lambda name: [json.loads(l) for l in (path / name).read_text(encoding="utf-8").splitlines() if l.strip()]
    qrels: dict[str, set[str]] = {}
    for line in (path / "qrels.tsv").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[2].strip().isdigit() and int(parts[2]) > 0:
            qrels.setdefault(parts[0], set()).add(parts[1])
    return read("corpus.jsonl"), read("queries.jsonl"), qrels


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


def metrics(ranked: list[str], relevant: set[str]) -> tuple[float, float, float]:
    """nDCG@10, Recall@5, MRR@10 of one query (binary relevance)."""
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    recall = len(set(ranked[:5]) & relevant) / len(relevant)
    rr = next((1 / (i + 1) for i, d in enumerate(ranked[:10]) if d in relevant), 0.0)
    return dcg / ideal if ideal else 0.0, recall, rr


def run_queries(service: SearchService, queries, qrels, slugs, mode, language) -> dict:
    scores, latencies, zero = [], [], 0
    for q in queries:
        relevant = qrels.get(str(q["_id"]))
        if not relevant:
            continue
        started = time.perf_counter()
        results = service.search(q["text"], language=language, mode=mode, per_page=10)
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = [slugs[h.slug] for h in results.hits]
        zero += not ranked
        scores.append(metrics(ranked, relevant))
    n = len(scores) or 1
    latencies.sort()
    return {
        "ndcg@10": round(sum(s[0] for s in scores) / n, 4),
        "recall@5": round(sum(s[1] for s in scores) / n, 4),
        "mrr@10": round(sum(s[2] for s in scores) / n, 4),
        "zero_result_rate": round(zero / n, 4),
        "queries": len(scores),
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else 0.0,
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2) if latencies else 0.0,
    }


def evaluate(path: str | Path, modes=("keyword",), language: str | None = None,
             embedder=None, settings=None) -> dict[str, dict]:
    """Metrics per mode for one BEIR folder (the index is built once for all modes)."""
    corpus, queries, qrels = load_beir(path)
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as tmp:
        articles_dir = Path(tmp) / "articles"
        articles_dir.mkdir()
        slugs = write_corpus(corpus, articles_dir, language)
        report = build_index(articles_dir, Path(tmp) / "index", embedder=embedder)
        if report.errors:
            raise RuntimeError(f"corpus did not index cleanly: {report.errors[0]}")
        service = SearchService(Path(tmp) / "index", embedder=embedder, settings=settings)
        return {mode: run_queries(service, queries, qrels, slugs, mode, language) for mode in modes}
