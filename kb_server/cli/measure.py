"""``kb eval`` (retrieval quality on BEIR folders) and ``kb bench`` (speed, see ``bench/``)."""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click
from flask import current_app
from flask.cli import with_appcontext

from indexer.embedding_cache import CachedEmbedder, FileStore
from indexer.evaluate import ABSTENTION_KEYS, METRIC_KEYS, MODES, PEER_PREFIX, evaluate
from kb_server import search
from kb_server.pgcluster import ClusterUnavailable, temporary_cluster


def _print_metrics(name: str, results: dict[str, dict]) -> None:
    """One row per metric, one column per mode (and the peer's); abstain_rate per
    unanswerable file last."""
    modes = list(results)
    first = results[modes[0]]
    peer = PEER_PREFIX + "ndcg@10" in first
    rows = [(key, [results[m][key] for m in modes]
             + ([first.get(PEER_PREFIX + key, "")] if peer else []))
            for key in METRIC_KEYS + ABSTENTION_KEYS if key in first]
    rows += [(f"abstain_rate {file}", [results[m]["abstain_rate_by_file"][file] for m in modes])
             for file in first.get("abstain_rate_by_file", {})]
    width = max(len(label) for label, _ in rows) + 2
    click.echo(f"{name}")
    columns = modes + (["postgres"] if peer else [])
    click.echo("  " + f"{'metric':<{width}}" + "".join(f"{m:>10}" for m in columns))
    for label, values in rows:
        click.echo("  " + f"{label:<{width}}" + "".join(f"{v:>10}" for v in values))


def _print_misses(results: dict[str, dict]) -> None:
    """Each mode's missed queries (``--misses``), one line each."""
    for mode, metrics in results.items():
        if metrics.get("misses"):
            click.echo(f"missed by {mode} (not in the top 5):")
        for entry in metrics.get("misses", ()):
            rank = entry["rank"] or "-"
            click.echo(f"  {entry['_id']:>8}  rank {rank:>2}  results {entry['results']:>3}  {entry['text']}")


@contextmanager
def _peer_database(peer: str | None) -> Iterator[str | None]:
    """The PostgreSQL URL for ``--peer postgres``: the configured database if it is
    PostgreSQL, else a temporary cluster for the length of the run."""
    configured = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if peer is None:
        yield None
    elif configured.startswith("postgresql"):
        yield configured
    else:
        try:
            with temporary_cluster() as url:
                yield url
        except ClusterUnavailable as error:
            raise click.ClickException(f"--peer postgres: {error}") from error


def eval_embedder(no_cache: bool = False):
    """The configured embedder (None if it cannot load), behind the evaluation cache unless
    ``no_cache``."""
    embedder = search.embedder()
    if embedder is None or no_cache:
        return embedder
    folder = Path(current_app.config["INSTANCE_DIR"]) / "eval-cache"
    return CachedEmbedder(embedder, FileStore(folder, embedder.name))


@click.command("eval")
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@click.option("--mode", type=click.Choice(MODES), default=None,
              help="Ranking to evaluate (default: the configured mode); 'plain' is untuned "
                   "Whoosh BM25F, the baseline.")
@click.option("--compare", is_flag=True,
              help="Evaluate plain, keyword, semantic and hybrid side by side.")
@click.option("--lang", type=click.Choice(["en", "ru", "uk"]), default=None,
              help="Language of corpus and queries (default: detected per text).")
@click.option("--unanswerable", "unanswerable", multiple=True,
              type=click.Path(exists=True, dir_okay=False),
              help="Queries (BEIR queries.jsonl format) PATH's corpus cannot answer: adds "
                   "abstain_rate, the share of them with no result. Repeatable.")
@click.option("--peer", type=click.Choice(["postgres"]), default=None,
              help="Also run the queries through PostgreSQL full-text search (the configured "
                   "database when it is PostgreSQL, else a temporary cluster): adds "
                   "peer_postgres_* keys.")
@click.option("--no-cache", is_flag=True,
              help="Embed everything anew instead of reusing the vectors of earlier runs "
                   "(kept by model and text in INSTANCE/eval-cache).")
@click.option("--misses", is_flag=True,
              help="Also list the queries with no relevant result in the top 5 (their first "
                   "relevant rank and result count): `misses` per mode in the JSON.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def eval_command(path: str, mode: str | None, compare: bool, lang: str | None,
                 unanswerable: tuple[str, ...], peer: str | None, no_cache: bool,
                 misses: bool, as_json: bool) -> None:
    """Retrieval quality on a BEIR folder: nDCG@10, Recall@5, MRR@10, zero results, latency."""
    modes = MODES if compare else (mode or current_app.config["SEARCH_MODE"],)
    embedder = eval_embedder(no_cache) if any(m in ("semantic", "hybrid") for m in modes) else None
    try:
        with _peer_database(peer) as peer_url:
            results = evaluate(path, modes=modes, language=lang, embedder=embedder,
                               settings=search.ranking_settings(), unanswerable=unanswerable,
                               peer_url=peer_url, misses=misses)
    finally:
        if isinstance(embedder, CachedEmbedder):
            embedder.save()
    if as_json:
        click.echo(json.dumps(results if compare else results[modes[0]]))
    else:
        _print_metrics(path, results)
        _print_misses(results)


@click.command("bench")
@click.option("--articles", "count", default=10_000, show_default=True, type=int)
@click.option("--keyword-only", is_flag=True, help="Skip embedding and semantic/hybrid search.")
@click.option("--analytics-events", default=0, show_default=True, type=int,
              help="Also measure the analytics dashboard's JSON on this many synthetic events "
                   "(1000000 for the analytics_1m_* keys; takes minutes).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def bench_command(count: int, keyword_only: bool, analytics_events: int, as_json: bool) -> None:
    """Reproducible benchmark on a synthetic knowledge base (see bench/run.py)."""
    from bench.run import run_bench   # the benchmark package is imported by this command alone
    embedder = None if keyword_only else search.embedder()
    results = run_bench(count, log=lambda msg: click.echo(msg, err=True),
                        modes=("keyword", "semantic", "hybrid"), embedder=embedder,
                        analytics_events=analytics_events)
    if as_json:
        click.echo(json.dumps(results))
    else:
        for key, value in results.items():
            click.echo(f"{key:<24}{value}")
