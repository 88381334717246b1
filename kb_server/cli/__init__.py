"""The ``kb`` command line, one module per kind of work.

| module | commands |
|---|---|
| ``instance`` | ``kb init``, ``kb serve``, ``kb settings``, and ``kb db`` (Flask-Migrate/Alembic) |
| ``content`` | ``kb check`` (read-only), ``kb index`` |
| ``measure`` | ``kb eval``, ``kb bench`` |
| ``sites`` | ``kb site add/list/remove`` |
| ``tickets`` | ``kb tickets process``, ``kb tickets sla-check``, ``kb tickets eval`` |
| ``mail`` | ``kb mail serve`` |
| ``privacy`` | ``kb privacy retention``, ``kb privacy erase --email`` |
| ``users`` | ``kb user add/token/list`` (staff accounts, API tokens) |
| ``analytics`` | ``kb analytics rollup`` (the dashboard's daily rollups) |
| ``worker`` | ``kb worker`` (background jobs) |
"""
from __future__ import annotations

import click
from flask.cli import FlaskGroup
from flask_migrate.cli import db as db_group

from kb_server import create_app, logs
from kb_server.cli import content, instance, measure
from kb_server.cli.analytics import analytics_group
from kb_server.cli.mail import mail_group
from kb_server.cli.privacy import privacy_group
from kb_server.cli.sites import site_group
from kb_server.cli.tickets import tickets
from kb_server.cli.users import user_group
from kb_server.cli.worker import worker_command


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False)
@click.option("-v", "--verbose", is_flag=True,
              help="Also show the database migrations each command applies first (Alembic).")
def main(verbose: bool) -> None:
    """Linezero: self-hosted knowledge base and self-service search."""
    if verbose:
        logs.verbose()


for command in (instance.init_command, instance.serve_command, instance.settings_command,
                content.check_command, content.index_command, content.sync_files_command,
                measure.eval_command, measure.bench_command,
                db_group, site_group, tickets, privacy_group, user_group, mail_group,
                analytics_group, worker_command):
    main.add_command(command)
