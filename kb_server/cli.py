"""The ``kb`` command line: index, check, serve, eval, bench (plus Flask's own commands)."""
from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from kb_server import create_app
from kb_server.sites_cli import site_group
from kb_server.tickets.cli import tickets
from indexer.articles import load_articles
from indexer.evaluate import METRIC_KEYS, evaluate


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False)
def main() -> None:
    """Linezero: self-hosted knowledge base and self-service search."""


main.add_command(tickets)
main.add_command(site_group)


@main.command("check")
@click.argument("path", required=False)
@with_appcontext
def check_command(path: str | None) -> None:
    """Validate articles; exit 1 if any has errors (file:line: message)."""
    articles, errors = load_articles(path or current_app.config["ARTICLES_DIR"])
    for error in errors:
        click.echo(str(error), err=True)
    click.echo(f"{len(articles)} articles ok, {len(errors)} with errors")
    sys.exit(1 if errors else 0)


@main.command("index")
@click.option("--full", is_flag=True, help="Rebuild from scratch (built aside, swapped atomically).")
@with_appcontext
def index_command(full: bool) -> None:
    """Index the articles (incremental by content hash unless --full)."""
    from kb_server import search
    report = search.reindex(full=full, progress=sys.stderr.isatty())
    for error in report.errors:
        click.echo(f"skipped {error}", err=True)
    click.echo(report.summary())
    sys.exit(1 if report.errors else 0)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int, threads: int) -> None:
    """Serve the help center, API and widget with waitress (a production WSGI server)."""
    import waitress
    click.echo(f"Linezero on http://{host}:{port}/  (help center), /demo (widget demo)")
    waitress.serve(current_app._get_current_object(), host=host, port=port, threads=threads)


def _print_metrics(name: str, results: dict[str, dict]) -> None:
    modes = list(results)
    click.echo(f"{name}")
    click.echo("  " + f"{'metric':<18}" + "".join(f"{m:>10}" for m in modes))
    for key in METRIC_KEYS:
        click.echo("  " + f"{key:<18}" + "".join(f"{results[m][key]:>10}" for m in modes))


@main.command("eval")
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@click.option("--mode", type=click.Choice(["keyword", "semantic", "hybrid"]), default=None,
              help="Ranking to evaluate (default: the configured mode).")
@click.option("--compare", is_flag=True, help="Evaluate keyword, semantic and hybrid side by side.")
@click.option("--lang", type=click.Choice(["en", "ru", "uk"]), default=None,
              help="Language of corpus and queries (default: detected per text).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def eval_command(path: str, mode: str | None, compare: bool, lang: str | None, as_json: bool) -> None:
    """Retrieval quality on a BEIR folder: nDCG@10, Recall@5, MRR@10, zero results, latency."""
    from kb_server import search
    modes = ("keyword", "semantic", "hybrid") if compare else (mode or current_app.config["SEARCH_MODE"],)
    embedder = search.embedder() if any(m != "keyword" for m in modes) else None
    results = evaluate(path, modes=modes, language=lang, embedder=embedder,
                       settings=search.ranking_settings())
    if as_json:
        click.echo(json.dumps(results if compare else results[modes[0]]))
    else:
        _print_metrics(path, results)


@main.command("bench")
@click.option("--articles", "count", default=10_000, show_default=True, type=int)
@click.option("--keyword-only", is_flag=True, help="Skip embedding and semantic/hybrid search.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def bench_command(count: int, keyword_only: bool, as_json: bool) -> None:
    """Reproducible benchmark on a synthetic knowledge base (see bench/run.py)."""
    from bench.run import run_bench
    from kb_server import search
    embedder = None if keyword_only else search.embedder()
    results = run_bench(count, log=lambda msg: click.echo(msg, err=True),
                        modes=("keyword", "semantic", "hybrid"), embedder=embedder)
    if as_json:
        click.echo(json.dumps(results))
    else:
        for key, value in results.items():
            click.echo(f"{key:<24}{value}")
