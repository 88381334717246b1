"""``kb init``, ``kb serve`` and ``kb settings``: set up and run an instance.

``kb serve`` on a fresh instance: database migrations, the demo site, the keyword index of the
articles (seconds for the bundled knowledge base), then it serves while the model embeds the
sections in the background; hybrid ranking starts when the vectors are written.
"""
from __future__ import annotations

import os
import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from kb_server import follow, jobs, logs, search, shared_kb
from kb_server.authoring import files
from kb_server.config import SETTINGS, settings_table
from kb_server.extensions import db
from kb_server.serving import CannotListen, bind, default_workers, serve
from kb_server.sites import ensure_demo_site
from kb_server.tickets import classify


def ensure_database() -> None:
    """Bring the database schema up to date (Alembic): a no-op when it already is. An
    embedded SQLite file is readable by its owner only (it holds personal data)."""
    path = db.engine.url.database if db.engine.url.get_backend_name() == "sqlite" else None
    if path and path != ":memory:":
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
    with logs.quiet_migrations():
        upgrade()


def init_instance() -> None:
    """Bring the database schema up to date and create the demo site."""
    ensure_database()
    if ensure_demo_site():
        click.echo("created the demo site (embedded by /demo)")


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database and the demo site (kb serve does this on start)."""
    init_instance()
    click.echo(f"instance ready in {current_app.config['INSTANCE_DIR']}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=5000, show_default=True, type=int, help="TCP port to listen on.")
@click.option("--workers", default=default_workers(), show_default="one per CPU", type=int,
              help="Server processes (waitress is pure Python: one process uses one CPU).")
@click.option("--threads", default=8, show_default=True, type=int, help="Threads per process.")
@with_appcontext
def serve_command(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the help center, API and widget with waitress (see kb_server/serving.py)."""
    try:
        sock = bind(host, port)    # first: a busy port is said at once, before any work
    except CannotListen as exc:
        raise click.ClickException(str(exc)) from None
    logs.configure(current_app.config["LOG_FORMAT"])
    app = current_app._get_current_object()
    init_instance()
    follower = follow.Follower(app) if shared_kb.followed(app.config) else None
    if follower is not None:
        click.echo("following the knowledge base shared in the database (KB_FOLLOW_DATABASE): "
                   "/readyz answers 503 until this node has caught up")
    else:
        _index_local_files(app)
    classify.prepare()
    consumers = []

    def articles_loops() -> None:
        every = app.config["ARTICLES_SYNC_SECONDS"]
        if files.start_background_sync(app, every):
            click.echo(f"article files checked every {every:g}s (KB_ARTICLES_SYNC_SECONDS)")
        if search.embed_in_background(app):
            click.echo("embedding in the background: hybrid search starts when it is done "
                       "(progress in /api/v1/health)")

    def background() -> None:
        if jobs.runs_in_serve(app.config):
            consumers.append(jobs.start_consumer(app))
            click.echo(f"processing background jobs from {jobs.storage_name(app.config)} "
                       f"(SLA check every {jobs.every_minutes(app.config['SLA_CHECK_SECONDS'])} "
                       "min; KB_JOBS_IN_SERVE=false to leave them to kb worker)")
        else:
            click.echo("background jobs are left to `kb worker` (KB_JOBS_IN_SERVE)")
        if follower is not None:     # the file sync runs once the shared files are written
            follower.start(on_caught_up=articles_loops)
        else:
            articles_loops()
    click.echo(f"Linezero on http://{host}:{port}/  (help center), /demo (widget demo)")
    try:
        serve(lambda: app, host=host, port=port, workers=workers, threads=threads,
              after_start=background, sock=sock)
    except CannotListen as exc:     # another server took the port while this one prepared
        raise click.ClickException(str(exc)) from None
    finally:
        for consumer in consumers:          # let running jobs finish (a queued one waits)
            consumer.stop(graceful=True)


def _index_local_files(app) -> None:
    """The articles folder into the console's revisions, then the keyword index, before
    serving (a node that follows the database does this in the background instead)."""
    started = time.monotonic()
    synced = files.sync_from_files(app.config["ARTICLES_DIR"])   # the console's view of the files
    if synced.changed:
        click.echo(f"articles: {len(synced.imported)} imported, {len(synced.updated)} changed "
                   "on disk since the last run (revisions in the console)")
    if synced.refused:
        click.echo(f"article file sync refused: {synced.refused}", err=True)
    progress = search.progress_reporter(sys.stderr.isatty())
    app.extensions["indexing"] = progress
    report = search.reindex(progress=progress, with_vectors=False)
    progress.finish()
    for error in report.errors:
        click.echo(f"skipped {error}", err=True)
    click.echo(f"keyword search ready in {time.monotonic() - started:.1f}s ({report.summary()})")


@click.command("settings")
@click.option("--markdown", is_flag=True, help="Print the README's table of settings.")
@with_appcontext
def settings_command(markdown: bool) -> None:
    """Show every setting with its value here (or the documentation table)."""
    if markdown:
        click.echo(settings_table())
        return
    hidden = {"SECRET_KEY", "MAIL_SMTP_PASSWORD"}
    for setting in SETTINGS:
        value = current_app.config.get(setting.name)
        shown = "(set)" if setting.name in hidden and value else value
        click.echo(f"{setting.variable:<24} {shown}")
