"""``kb check`` (validate articles, read-only), ``kb index`` (build the search index) and
``kb sync-files`` (the articles folder into the console's revisions)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from indexer.articles import load_article_file, scan_articles
from indexer.articles.links import check_links
from indexer.languages import LANGUAGES
from kb_server import search
from kb_server.authoring import publishing


@click.command("check")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@with_appcontext
def check_command(path: Path | None) -> None:
    """Validate the articles under PATH (a folder, or one article file; default: the configured
    articles folder): errors (the file is not published) and warnings, as file:line: message;
    exit 1 if a file has errors or there are no articles. Writes nothing."""
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    if path is not None and path.is_file():
        scan = load_article_file(path)
        folder = path.parent.parent if path.parent.name in LANGUAGES else path.parent
        links = check_links(scan.articles, Path(), limit, folder=folder)
    else:
        path = path or Path(current_app.config["ARTICLES_DIR"])
        scan = scan_articles(path)
        links = check_links(scan.articles, path, limit)
    warnings = scan.warnings + links
    for problem in sorted([*scan.errors, *warnings], key=lambda p: (p.path, p.line)):
        click.echo(str(problem), err=True)
    broken = len({error.path for error in scan.errors})
    if not scan.articles and not broken:
        click.echo(f"no articles found in {path} (article files: <lang>/<slug>.md)", err=True)
        sys.exit(1)
    click.echo(f"{_count(len(scan.articles), 'article')} ok, {_count(broken, 'file')} with errors, "
               f"{_count(len(warnings), 'warning')}")
    sys.exit(1 if scan.errors else 0)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


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


@click.command("sync-files")
@click.option("--confirm-removal", is_flag=True,
              help="Archive the articles whose file is gone even if they are most of them.")
@with_appcontext
def sync_files_command(confirm_removal: bool) -> None:
    """Turn the articles folder, as it is now, into revisions and reindex; exit 1 when the sync
    refused to archive most articles at once (KB_SYNC_MAX_ARCHIVE_SHARE) or a file has errors."""
    report = publishing.sync_files(current_app.config["ARTICLES_DIR"], confirm_removal=confirm_removal)
    for error in report.errors:
        click.echo(f"skipped {error}", err=True)
    if report.refused:
        click.echo(f"refused: {report.refused}", err=True)
    click.echo(f"articles: {len(report.imported)} imported, {len(report.updated)} changed, "
               f"{len(report.archived)} archived (file deleted)")
    sys.exit(1 if report.refused or report.errors else 0)
