"""E-mail conversations with the people who raised tickets.

| module | what |
|---|---|
| ``tokens`` | what ties a message or a link to its ticket, signed with ``SECRET_KEY`` (nothing stored): the reply address ``support+<token>@domain``, our ``Message-ID``s, the signed page links |
| ``outbound`` | ``compose`` a message to the user (plain text + sanitized HTML, threading headers, reply marker, links) and ``send`` it: SMTP in one attempt (the delivery job retries), or the outbox folder when no SMTP host is set |
| ``inbound`` | ``ingest(raw) -> InboundReply | NewRequest | Ignored``: threading, quoted-reply stripping, attachment limits, auto-replies and bounces ignored |
| ``conversation`` | the conversation (the console's ``TicketMessage`` table) and the ways into it: ``deliver`` (a user's reply: e-mail or the ticket page), ``open_ticket`` (a new request by e-mail) and ``reply_to_user`` (staff; sent by the ``tickets.delivery`` job) |
| ``server`` | the inbound SMTP receiver (aiosmtpd) run by ``kb mail serve`` |
"""
from kb_server.mail.inbound import Ignored, InboundReply, NewRequest, ingest
from kb_server.mail.outbound import MailError, compose, delivery_mode, send

__all__ = ["Ignored", "InboundReply", "MailError", "NewRequest", "compose", "delivery_mode", "ingest", "send"]
