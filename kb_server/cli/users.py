"""``kb user``: staff accounts and their personal API tokens.

    kb user add anna@example.com --role agent --line 1          # asks for the password
    echo "$PASSWORD" | kb user add boss@example.com --role admin --password-stdin
    kb user token anna@example.com [--name laptop]               # prints a new token
    kb user list [--json]
"""
from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup, with_appcontext

from kb_server.cli.instance import ensure_database
from kb_server.console import users
from kb_server.models.staff import ROLES
from kb_server.models.tickets import LINES


@click.group("user", cls=AppGroup)
@with_appcontext
def user_group() -> None:
    """Staff accounts (roles admin, editor, analyst, agent with a line) and API tokens."""
    ensure_database()


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@user_group.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--line", type=click.IntRange(min(LINES), max(LINES)), default=None,
              help="Support line of an agent (1-4; agents only).")
@click.option("--name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add_command(email: str, role: str, line: int | None, name: str, password_stdin: bool) -> None:
    """Add a staff account; the password is asked for (or read with --password-stdin)."""
    if line is not None and role != "agent":
        raise click.BadParameter(f"only agents work on a support line (not the role {role})",
                                 param_hint="--line")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = users.add_user("cli", email, role, password, line=line, name=name)
    except users.UserError as exc:
        _fail(str(exc))
    where = f", line {user.line}" if user.line else ""
    click.echo(f"added {user.email} ({user.role}{where})")


@user_group.command("token")
@click.argument("email")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
def token_command(email: str, name: str) -> None:
    """Print a new personal API token of EMAIL (shown once; revoke it in the console)."""
    user = users.get_by_email(email)
    if user is None or not user.active:
        _fail(f"no active user {email}")
    click.echo(users.new_token("cli", user, name))


@user_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_command(as_json: bool) -> None:
    """List the staff accounts."""
    accounts = users.all_users()
    if as_json:
        click.echo(json.dumps([u.to_dict() for u in accounts], ensure_ascii=False))
        return
    for user in accounts:
        line = f"line {user.line}" if user.line else ""
        state = "" if user.active else "  (deactivated)"
        click.echo(f"{user.email:<32} {user.role:<8} {line}{state}")
    if not accounts:
        click.echo("no users (kb user add EMAIL --role admin)")
