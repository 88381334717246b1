"""``kb privacy``: retention (from cron) and erasing one person's data."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from kb_server import privacy
from kb_server.cli.instance import ensure_database


@click.group("privacy")
@with_appcontext
def privacy_group() -> None:
    """Personal data: retention and erasure."""
    ensure_database()


def _report(counts: dict[str, int]) -> None:
    click.echo(", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in counts.items()))


@privacy_group.command("retention")
@with_appcontext
def retention_command() -> None:
    """Delete events older than RETENTION_EVENT_DAYS; erase the personal fields of tickets
    closed more than RETENTION_TICKET_DAYS ago (run daily from cron)."""
    _report(privacy.apply_retention())


@privacy_group.command("erase")
@click.option("--email", required=True, help="The person's e-mail address.")
@with_appcontext
def erase_command(email: str) -> None:
    """Erase one person's data everywhere: their tickets' personal fields and their sessions'
    events (searches, clicks, views, feedback)."""
    _report(privacy.erase_person(email))
