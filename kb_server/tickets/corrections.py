"""Agents' corrections of the suggested request class: stored as new labelled examples, and
counted (suggestion accuracy = the share of suggested tickets whose class nobody corrected)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from kb_server.extensions import db
from kb_server.models import ClassCorrection, Ticket, utcnow


def record(ticket: Ticket, new_class: str, author_id: int | None) -> ClassCorrection | None:
    """A correction when an agent changes a ticket's class (None if the class stays)."""
    if new_class == ticket.request_class:
        return None
    correction = ClassCorrection(ticket_id=ticket.id, text=_text(ticket), language=ticket.language,
                                 suggested_class=ticket.suggested_class, corrected_class=new_class,
                                 author_id=author_id, created_at=utcnow())
    db.session.add(correction)
    return correction


def _text(ticket: Ticket) -> str:
    return ticket.message or ticket.gap_query or ticket.subject


def suggestion_accuracy(since: dt.datetime | None = None, until: dt.datetime | None = None,
                        clauses: tuple = ()) -> dict:
    """Of the tickets created in [since, until) (and matching ``clauses``, conditions on
    ``Ticket``) that got a suggested class, how many kept it:
    ``{"suggested": n, "corrected": m, "accuracy": (n - m) / n or None}``. A ticket counts as
    corrected when its class now differs from the suggestion after an agent's correction."""
    suggested = select(Ticket.id).where(Ticket.suggested_class != "", *clauses)
    if since is not None:
        suggested = suggested.where(Ticket.created_at >= since)
    if until is not None:
        suggested = suggested.where(Ticket.created_at < until)
    total = db.session.scalar(select(func.count()).select_from(suggested.subquery())) or 0
    corrected = db.session.scalar(
        select(func.count(Ticket.id)).where(
            Ticket.id.in_(suggested), Ticket.request_class != Ticket.suggested_class,
            Ticket.id.in_(select(ClassCorrection.ticket_id)))) or 0
    return {"suggested": total, "corrected": corrected,
            "accuracy": round((total - corrected) / total, 4) if total else None}


def examples() -> list[dict]:
    """The latest correction of each ticket as a labelled request (``kb tickets eval``'s rows,
    ready to become examples in the classes file)."""
    latest = select(func.max(ClassCorrection.id)).group_by(ClassCorrection.ticket_id)
    rows = db.session.scalars(select(ClassCorrection).where(ClassCorrection.id.in_(latest))
                              .order_by(ClassCorrection.id))
    return [{"text": row.text, "label": row.corrected_class, "language": row.language,
             "suggested": row.suggested_class} for row in rows]
