"""``kb check`` (validate articles, read-only) and ``kb index`` (build the search index)."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from indexer.articles import load_articles
from kb_server import search


@click.command("check")
@click.argument("path", required=False)
@with_appcontext
def check_command(path: str | None) -> None:
    """Validate articles; exit 1 if any has errors (file:line: message). Writes nothing."""
    articles, errors = load_articles(path or current_app.config["ARTICLES_DIR"])
    for error in errors:
        click.echo(str(error), err=True)
    click.echo(f"{len(articles)} articles ok, {len(errors)} with errors")
    sys.exit(1 if errors else 0)


@click.command("index")
@click.option("--full", is_flag=True, help="Rebuild from scratch (built aside, swapped atomically).")
@click.option("--keyword-only", is_flag=True, help="Leave the vectors as they are (no model).")
@with_appcontext
def index_command(full: bool, keyword_only: bool) -> None:
    """Index the articles (incremental by content hash unless --full), with their vectors."""
    progress = search.progress_reporter(sys.stderr.isatty(), lambda line: click.echo(line, err=True))
    report = search.reindex(full=full, progress=progress, with_vectors=not keyword_only)
    progress.finish()
    for error in report.errors:
        click.echo(f"skipped {error}", err=True)
    click.echo(report.summary())
    sys.exit(1 if report.errors else 0)
