"""The seam between the console and the e-mail transport.

``deliver_reply`` is the one call a reply makes to reach the user. Outbound e-mail
(``kb_server.mail``: SMTP or an outbox folder, ``Message-ID`` headers) is built separately;
until it is plugged in here, a reply is stored on the ticket with delivery state ``queued``
and nothing is sent: the console says so next to each reply.
"""
from __future__ import annotations

import logging

from kb_server.models import Ticket, TicketMessage

log = logging.getLogger(__name__)

QUEUED = "queued"


def deliver_reply(ticket: Ticket, message: TicketMessage) -> str:
    """Hand ``message`` (a stored reply) to the transport; returns its delivery state."""
    log.info("reply %s on %s to %s queued (no e-mail transport configured)",
             message.id, ticket.reference, ticket.email)
    return QUEUED
