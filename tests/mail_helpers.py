"""A real SMTP server (aiosmtpd) on a free loopback port, standing for the organisation's mail
relay: ``Relay`` keeps what it receives, the ``relay`` fixture points the app's mail at it."""
from __future__ import annotations

import email
import email.policy
import socket
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Relay:
    """The organisation's SMTP server: keeps what it receives; answers ``failures`` DATA
    commands with ``code`` first."""

    def __init__(self, failures: int = 0, code: str = "451 4.3.0 busy, try later"):
        self.messages: list[EmailMessage] = []
        self.envelopes = []
        self.failures, self.code = failures, code

    async def handle_DATA(self, server, session, envelope):
        if self.failures:
            self.failures -= 1
            return self.code
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def relay(app):
    handler = Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=controller.port,
                      MAIL_SMTP_SECURITY="none", MAIL_FROM="Orbita support <support@help.example>",
                      PUBLIC_URL="https://help.example", MAIL_RETRY_SECONDS=0.01)
    yield handler
    controller.stop()
