"""Which articles a ticket is linked to: the input of ``link_rate`` (KCS: a resolved ticket
should point at the article that solves it, or at the one that had to be written). The links
are the console's (``console.kcs``: resolved with, created from, referenced), so the dashboard
and the console count the same thing.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from sqlalchemy import select

from kb_server.extensions import db
from kb_server.models import TicketArticle


def linked_articles(ticket_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """Ticket id -> the article ids (``en/reset-password``) it is linked to (tickets without
    links are left out)."""
    ids = list(ticket_ids)
    links: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(ids), 500):
        rows = db.session.execute(select(TicketArticle.ticket_id, TicketArticle.article_language,
                                         TicketArticle.article_slug)
                                  .where(TicketArticle.ticket_id.in_(ids[start:start + 500])))
        for ticket_id, language, slug in rows:
            links[ticket_id].add(f"{language}/{slug}")
    return {ticket_id: frozenset(found) for ticket_id, found in links.items()}
