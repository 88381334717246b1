"""The inbound SMTP receiver (aiosmtpd): ``kb mail serve`` on ``MAIL_INBOUND_HOST:PORT``.

Point the MX (or a forwarding rule) of the reply domain at it. It accepts mail only for the
reply address and its per-ticket tokens (anything else is ``550``, so it is no open relay),
hands each message to ``inbound.ingest``, a reply to ``conversation.deliver`` and a person's
new request (a message to the reply address that threads to no ticket) to
``conversation.open_ticket``. Machine mail (bounces, auto-replies, lists) is accepted and
dropped with a log line: refusing it would make the sender's server bounce it back, which is how
loops start; nothing is ever answered automatically. With ``MAIL_NEW_TICKETS`` off a new request
is refused with ``550`` and a hint, so its sender learns from their own server's bounce that it
did not arrive. A failure of ours, or a sender past ``MAIL_NEW_TICKETS_PER_HOUR`` new requests,
is ``451`` so the sending server retries later (nothing is lost).
"""
from __future__ import annotations

import asyncio
import logging

from aiosmtpd.controller import Controller
from flask import Flask

from kb_server.mail import conversation, tokens
from kb_server.mail.inbound import NOT_A_REPLY, Ignored, NewRequest, ingest

log = logging.getLogger(__name__)

TOO_MANY_ANSWER = "451 4.7.1 Too many new requests from this sender; please try again later"
NOT_A_REPLY_ANSWER = ("550 5.7.1 This address only receives replies to support requests; "
                      "please contact us through the help center")


class InboundHandler:
    def __init__(self, app: Flask):
        self.app = app

    def _accepts(self, address: str) -> bool:
        with self.app.app_context():
            local, domain = tokens.reply_base()
            return (tokens.reference_from_address(address) is not None
                    or address.lower() == f"{local}@{domain}".lower())

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not self._accepts(address):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def _process(self, raw: bytes, mail_from: str, recipients: tuple[str, ...]) -> str:
        """The SMTP answer to one message."""
        with self.app.app_context():
            result = ingest(raw, envelope_from=mail_from, recipients=recipients)
            if isinstance(result, Ignored):
                log.info("mail: ignored a message from %r: %s", mail_from, result.reason)
                return NOT_A_REPLY_ANSWER if result.reason == NOT_A_REPLY else "250 OK"
            if isinstance(result, NewRequest):
                done = conversation.open_ticket(result)
            else:
                done = conversation.deliver(result)
            if isinstance(done, Ignored):
                log.info("mail: ignored a message from %r: %s", result.sender, done.reason)
                if done.reason == conversation.TOO_MANY_NEW_REQUESTS:
                    return TOO_MANY_ANSWER
            return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        mail_from = "" if envelope.mail_from in ("<>", None) else envelope.mail_from
        try:
            return await asyncio.get_running_loop().run_in_executor(
                None, self._process, raw, mail_from, tuple(envelope.rcpt_tos))
        except Exception:
            log.exception("mail: could not process a message from %r", mail_from)
            return "451 4.3.0 try again later"


def make_controller(app: Flask, host: str | None = None, port: int | None = None) -> Controller:
    """An aiosmtpd controller for ``app`` (call ``start()`` / ``stop()``)."""
    config = app.config
    return Controller(InboundHandler(app), hostname=host or config["MAIL_INBOUND_HOST"],
                      port=port if port is not None else config["MAIL_INBOUND_PORT"],
                      data_size_limit=config["MAIL_MAX_MESSAGE_BYTES"], enable_SMTPUTF8=True)
