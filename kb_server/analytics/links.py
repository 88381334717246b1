"""Which articles a ticket is linked to: the input of ``link_rate`` (KCS: a resolved ticket
should point at the article that solves it, or at the one that had to be written).

There is no ticket-article link table yet, so a ticket's links are the articles its replies to
the user link to (``/a/<language>/<slug>``, relative or absolute). A link table replaces the
body of ``linked_articles`` (same signature); nothing else changes.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Iterable

from sqlalchemy import select

from kb_server.extensions import db
from kb_server.models import TicketMessage

ARTICLE_LINK = re.compile(r"/a/([a-z]{2,3})/([A-Za-z0-9][A-Za-z0-9_-]*)")


def articles_in(text: str) -> set[str]:
    """Article ids (``en/reset-password``) that a text links to."""
    return {f"{language}/{slug}" for language, slug in ARTICLE_LINK.findall(text or "")}


def linked_articles(ticket_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """Ticket id -> the article ids it is linked to (tickets without links are left out)."""
    ids = list(ticket_ids)
    links: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(ids), 500):
        rows = db.session.execute(select(TicketMessage.ticket_id, TicketMessage.body).where(
            TicketMessage.ticket_id.in_(ids[start:start + 500]), TicketMessage.kind == "reply"))
        for ticket_id, body in rows:
            links[ticket_id] |= articles_in(body)
    return {ticket_id: frozenset(found) for ticket_id, found in links.items() if found}
