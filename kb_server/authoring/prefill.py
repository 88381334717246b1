"""A new article prefilled from a ticket (``/console/articles/new?ticket=LZ-000042``): the
title from the ticket's subject (a gap ticket: its headline query), a body that lists what
users asked (a gap's grouped queries, or the user's message) and the last reply an agent sent,
for the writer to turn into the answer. The draft keeps the ticket as its source; publishing
it resolves a gap ticket (``publishing``)."""
from __future__ import annotations

import re

from indexer.languages import LANGUAGES
from kb_server.authoring.fields import Fields
from kb_server.extensions import db
from kb_server.models import Ticket, TicketMessage
from kb_server.tickets import service

MAX_QUERIES = 15


def find_ticket(reference: str) -> Ticket | None:
    """A ticket by reference (``LZ-000042``) or row id."""
    reference = (reference or "").strip()[:16]
    if reference.isdigit():
        return db.session.get(Ticket, int(reference))
    return service.get_ticket(reference) if reference else None


def slugify(text: str) -> str:
    """An ASCII slug (``a-z0-9-``) or "" when the text has no Latin letters or digits."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


def _last_reply(ticket: Ticket) -> str:
    message = db.session.scalar(db.select(TicketMessage)
                                .filter_by(ticket_id=ticket.id, kind="reply")
                                .order_by(TicketMessage.id.desc()).limit(1))
    return message.body.strip() if message else ""


def _questions(ticket: Ticket) -> list[str]:
    if ticket.kind == "gap":
        return (ticket.gap_dict() or {}).get("sample_queries", [])[:MAX_QUERIES]
    return [line.strip() for line in (ticket.message or "").splitlines() if line.strip()]


def fields_from_ticket(ticket: Ticket) -> Fields:
    title = (ticket.gap_query if ticket.kind == "gap" else ticket.subject) or ticket.subject
    title = title.strip()[:1].upper() + title.strip()[1:300]
    asked = "\n".join(f"- {q}" if ticket.kind == "gap" else f"> {q}" for q in _questions(ticket))
    reply = _last_reply(ticket)
    body = (f"<!-- {ticket.reference}: what users asked -->\n{asked}\n\n## Answer\n\n"
            f"{reply or 'Write the answer here.'}\n")
    language = ticket.language if ticket.language in LANGUAGES else "en"
    return Fields(title=title, slug=slugify(title), language=language, body=body)
