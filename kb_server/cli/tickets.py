"""``kb tickets``: the ticket work that needs time to pass: the unresolved-search rules
(``process``) and the SLA (``sla-check``). The job consumer runs both periodically
(``TICKETS_PROCESS_SECONDS``, ``SLA_CHECK_SECONDS``); these commands are for cron."""
from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from kb_server.cli.instance import ensure_database
from kb_server.tickets import service, sla_watch


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
    total = service.process_all_pending(now)
    summary = ", ".join(f"{rule}: {count}" for rule, count in sorted(total.items())) or "nothing"
    click.echo(f"events judged: {summary}")


@tickets.command("sla-check")
@click.option("--now", type=click.DateTime(), default=None,
              help="Check as if it were this UTC time (default: now).")
@with_appcontext
def sla_check_command(now: dt.datetime | None) -> None:
    """Refresh the SLA state of open tickets and take the actions due (SLA_ACTIONS)."""
    counts = sla_watch.check_tickets(now)
    summary = ", ".join(f"{key}: {value}" for key, value in sorted(counts.items())) or "no open tickets"
    click.echo(f"SLA: {summary}")
