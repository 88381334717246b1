"""``kb tickets``: run the unresolved-search rules that need time to pass (e.g. from cron)."""
from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from kb_server.cli.instance import ensure_database
from kb_server.tickets import service


@click.group("tickets")
@with_appcontext
def tickets() -> None:
    """Line-1 tickets."""
    ensure_database()


@tickets.command("process")
@click.option("--now", type=click.DateTime(), default=None,
              help="Judge as if it were this UTC time (default: now).")
@with_appcontext
def process_command(now: dt.datetime | None) -> None:
    """Judge searches whose no-click window has passed; group signals into gap tickets."""
    total: dict[str, int] = {}
    while True:
        counts = service.process_pending(now)
        for rule, count in counts.items():
            total[rule] = total.get(rule, 0) + count
        if sum(counts.values()) < service.PENDING_BATCH:
            break
    summary = ", ".join(f"{rule}: {count}" for rule, count in sorted(total.items())) or "nothing"
    click.echo(f"events judged: {summary}")
