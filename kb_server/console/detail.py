"""What a ticket page shows besides the ticket's own fields: the conversation, the history
(audit trail), articles the search service suggests for the ticket's text, the titles of the
articles its session saw, the facts its class requires, its SLA state, the suggested class with
its confidence and reason, for incidents the linked tickets and the notice, and its KCS side:
the articles linked to it and the flags raised from it."""
from __future__ import annotations

import logging

from kb_server import audit, search
from kb_server.console import kcs, queue
from kb_server.extensions import db
from kb_server.helpcenter import article_url
from kb_server.models import IncidentNotice, Ticket, TicketMessage, User
from kb_server.tickets import facts, incidents

log = logging.getLogger(__name__)
SUGGESTIONS = 5


def messages(ticket: Ticket) -> list[TicketMessage]:
    return list(db.session.scalars(db.select(TicketMessage).filter_by(ticket_id=ticket.id)
                                   .order_by(TicketMessage.created_at, TicketMessage.id)))


def search_text(ticket: Ticket) -> str:
    """What the user asked: the gap's query, else the subject and the message."""
    if ticket.kind == "gap":
        return ticket.gap_query
    return f"{ticket.subject}\n{ticket.message}".strip()[:500]


def suggestions(ticket: Ticket) -> list[dict]:
    """Articles the search service finds for the ticket's text ([] while search is down)."""
    return find_articles(search_text(ticket), ticket.language)


def find_articles(text: str, language: str = "") -> list[dict]:
    """Articles the search service finds for ``text`` (the ticket page's suggestions and its
    "find another article" box; [] while search is down)."""
    if not text:
        return []
    try:
        results = search.search(text, language=language or None, per_page=SUGGESTIONS)
    except Exception:   # search down: the ticket page still works
        log.exception("article search %r failed", text[:80])
        return []
    return [{"id": hit.id, "title": hit.title, "section": hit.section, "snippet": hit.snippet,
             "url": article_url(hit.language, hit.slug, hit.anchor)} for hit in results.hits]


def article_titles(ticket: Ticket) -> dict[str, str]:
    """Titles of the articles the ticket's session and gap mention (id -> title)."""
    try:
        articles = search.service().current_catalog().articles
    except Exception:
        return {}
    context, gap = ticket.context or {}, ticket.gap or {}
    ids = set(context.get("results_shown", []))
    ids |= {row.get("article_id", "") for key in ("articles_opened", "feedback")
            for row in context.get(key, [])}
    ids |= set(gap.get("articles", {}))
    return {i: articles[i].title for i in ids if i in articles}


def detail(ticket: Ticket) -> dict:
    assignee = db.session.get(User, ticket.assignee_id) if ticket.assignee_id else None
    merged_into = db.session.get(Ticket, ticket.merged_into_id) if ticket.merged_into_id else None
    conversation = messages(ticket)
    escalations = [m for m in conversation if m.kind == "escalation"]
    is_incident = ticket.kind == "incident"
    linked = incidents.linked_tickets(ticket) if is_incident else []
    return {
        "suggestion": (ticket.context or {}).get("classification"),
        "incident": db.session.get(Ticket, ticket.incident_id) if ticket.incident_id else None,
        "linked": linked,
        "reply_languages": incidents.reply_languages(linked) or ["en"],
        "notice": db.session.scalar(db.select(IncidentNotice).filter_by(
            incident_id=ticket.id, active=True)) if is_incident else None,
        "messages": conversation,
        "last_escalation": escalations[-1] if escalations else None,
        "history": audit.history("ticket", ticket.reference),
        "suggestions": suggestions(ticket),
        "links": kcs.links(ticket),
        "flags": kcs.ticket_flags(ticket),
        "titles": article_titles(ticket),
        "required_facts": facts.required(ticket.request_class),
        "missing_facts": facts.missing(ticket.request_class, ticket.facts),
        "sla_state": queue.sla_state(ticket),
        "next_due": queue.next_due(ticket),
        "assignee": assignee,
        "merged_into": merged_into.reference if merged_into else None,
    }


def to_json(ticket: Ticket) -> dict:
    """The ticket page as the staff API returns it."""
    info = detail(ticket)
    data = ticket.to_dict(detail=True)
    data.update({
        "messages": [m.to_dict() for m in info["messages"]],
        "history": [entry.to_dict() for entry in info["history"]],
        "suggested_articles": info["suggestions"],
        "linked_articles": [link.to_dict() for link in info["links"]],
        "article_flags": [flag.to_dict() for flag in info["flags"]],
        "required_facts": info["required_facts"], "missing_facts": info["missing_facts"],
        "sla_state": info["sla_state"],
        "next_due": info["next_due"].isoformat() + "Z" if info["next_due"] else None,
        "assignee": info["assignee"].email if info["assignee"] else None,
        "merged_into": info["merged_into"],
        "incident": info["incident"].reference if info["incident"] else None,
        "linked": [t.reference for t in info["linked"]],
        "notice": info["notice"].texts if info["notice"] else None,
    })
    return data
