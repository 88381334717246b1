"""``kb worker``: process the background jobs (``kb_server.jobs``) in the foreground."""
from __future__ import annotations


import click
from flask import current_app
from flask.cli import with_appcontext

from kb_server import jobs, logs
from kb_server.cli.instance import ensure_database


@click.command("worker")
@click.option("--workers", default=None, type=int, help="Job threads (default: JOBS_WORKERS).")
@click.option("--periodic/--no-periodic", default=True, show_default=True,
              help="Also run the periodic jobs (SLA check, unresolved searches); keep them on "
                   "in one worker only.")
@with_appcontext
def worker_command(workers: int | None, periodic: bool) -> None:
    """Run queued jobs (e-mail, webhooks) and the periodic ones until Ctrl-C / SIGTERM."""
    logs.configure(current_app.config["LOG_FORMAT"])
    ensure_database()
    app = current_app._get_current_object()
    click.echo(f"processing jobs from {jobs.storage_name(app.config)} "
               f"({app.extensions['jobs'].pending()} waiting)")
    jobs.run_worker(app, workers, periodic)
