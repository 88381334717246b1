"""``kb mail serve``: receive users' replies by SMTP (see ``kb_server/mail/server.py``)."""
from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from kb_server import logs
from kb_server.cli.instance import ensure_database
from kb_server.mail import delivery_mode
from kb_server.mail.server import make_controller


@click.group("mail")
def mail_group() -> None:
    """E-mail conversations with users."""


@mail_group.command("serve")
@click.option("--host", default=None, help="Listen address (default: MAIL_INBOUND_HOST).")
@click.option("--port", default=None, type=int, help="Port (default: MAIL_INBOUND_PORT).")
@with_appcontext
def serve_command(host: str | None, port: int | None) -> None:
    """Receive users' replies by SMTP and add them to their tickets (until Ctrl-C / SIGTERM)."""
    logs.configure(current_app.config["LOG_FORMAT"])
    ensure_database()
    controller = make_controller(current_app._get_current_object(), host, port)
    controller.start()
    click.echo(f"receiving mail on {controller.hostname}:{controller.port} "
               f"(outgoing mail: {delivery_mode()})")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
