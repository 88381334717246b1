"""``kb analytics rollup``: reduce the ended days' events to the dashboard's rollups (cron,
daily; the dashboard also rolls up a missing day the first time it shows it)."""
from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from kb_server.analytics import rollup
from kb_server.cli.instance import ensure_database


@click.group("analytics")
@with_appcontext
def analytics_group() -> None:
    """Analytics rollups."""
    ensure_database()


@analytics_group.command("rollup")
@click.option("--recompute", is_flag=True, help="Compute every stored day again (after the "
              "definitions changed).")
@with_appcontext
def rollup_command(recompute: bool) -> None:
    """Roll up every ended UTC day since the first event that is not rolled up yet."""
    started = time.perf_counter()
    days = rollup.roll_up(recompute=recompute)
    click.echo(f"{days} days rolled up in {time.perf_counter() - started:.1f}s")
