"""The one call a reply to the user makes to reach them: ``deliver_reply``.

The reply (a stored ``TicketMessage``) is composed as an e-mail (``mail.outbound``: threading
headers, reply address, signed page link, rating links on request) and sent: over SMTP when
``MAIL_SMTP_HOST`` is set, else written to the outbox folder (the embedded default). The result
is kept on the message: ``delivery`` is ``sent``, ``outbox`` or ``failed``, ``data`` holds the
``message_id`` and, for a failure, ``delivery_error``.
"""
from __future__ import annotations

import logging
from typing import Sequence

from sqlalchemy.orm.attributes import flag_modified

from kb_server.mail import outbound
from kb_server.models import Ticket, TicketMessage

log = logging.getLogger(__name__)

SENT, OUTBOX, FAILED = "sent", "outbox", "failed"
DELIVERED = (SENT, OUTBOX)


def deliver_reply(ticket: Ticket, message: TicketMessage, *, thread: Sequence[str] = (),
                  rating: bool = False) -> str:
    """Send ``message`` to the ticket's user (after ``thread``, the conversation's earlier
    Message-IDs); store and return its delivery state."""
    email = outbound.compose(ticket, message.body, thread=thread, rating=rating)
    data = {**(message.data or {}), "message_id": str(email["Message-ID"])}
    try:
        message.delivery = SENT if outbound.send(email) == "smtp" else OUTBOX
    except outbound.MailError as exc:
        log.error("reply %s on %s could not be delivered: %s", message.id, ticket.reference, exc)
        message.delivery, data["delivery_error"] = FAILED, str(exc)
    if rating:
        data["rating_links"] = True
    message.data = data
    flag_modified(message, "data")
    return message.delivery
