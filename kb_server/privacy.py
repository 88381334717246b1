"""Personal data: how long it is kept, and erasing one person's data on request.

What is personal here: a ticket's e-mail, name, message, page, browser, captured session
(``context``), facts, the texts of its conversation (and the facts and context its audit
trail recorded), the files its user sent (``MAIL_ATTACHMENTS_DIR``), the webhook deliveries
about it (their bodies hold the ticket), and the events of a
search session (queries, pages, browser), tied to a person through the session of their
contact ticket; and the copies of their words in class corrections, incident reports and the
comments of article flags raised from their ticket. Page URLs lose their query strings and fragments
when they arrive (``views.capture``).

- ``apply_retention``: events and webhook deliveries older than ``RETENTION_EVENT_DAYS`` are
  deleted, and so are the query texts of the analytics rollups of those days; tickets closed
  more than ``RETENTION_TICKET_DAYS`` ago keep their class, priority, status and times, and
  lose everything personal (``kb privacy retention``, for cron).
- ``erase_person``: a person's tickets (by e-mail) are erased the same way at once and the
  events of their sessions deleted (``kb privacy erase --email``).
"""
from __future__ import annotations

import datetime as dt

from flask import current_app

from kb_server.analytics import rollup
from kb_server.extensions import db
from kb_server.mail.conversation import erase_attachments
from kb_server.models import (ArticleFlag, AuditEntry, ClassCorrection, Event, IncidentReport, Ticket,
                              TicketMessage, TicketSignal, WebhookDelivery, utcnow)

ERASED = "(erased)"
PERSONAL_AUDIT_FIELDS = ("context", "facts")   # audited fields that may quote the person


def _erase_ticket(ticket: Ticket) -> None:
    """Blank the ticket's personal fields, its conversation's texts and the personal fields
    its audit trail recorded (kinds, times and who did what stay)."""
    erase_attachments(ticket.reference)
    ticket.email = ticket.name = ticket.page_url = ticket.user_agent = ticket.session_id = ""
    ticket.message = ticket.subject = ERASED
    ticket.context, ticket.facts = {}, {}
    ticket.follow_up_due, ticket.follow_up_text = None, ""     # nothing left to classify
    db.session.execute(db.update(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
                       .values(body=ERASED, data={}))
    db.session.execute(db.update(TicketMessage).where(TicketMessage.ticket_id == ticket.id,
                                                      TicketMessage.kind == "user")
                       .values(author=""))      # the user's own address
    db.session.execute(db.update(ClassCorrection).where(ClassCorrection.ticket_id == ticket.id)
                       .values(text=ERASED))
    db.session.execute(db.update(ArticleFlag).where(ArticleFlag.ticket_id == ticket.id)
                       .values(comment=ERASED))
    _erase_reports(IncidentReport.ticket_id == ticket.id)
    db.session.execute(db.delete(WebhookDelivery)
                       .where(WebhookDelivery.ticket_reference == ticket.reference))
    for entry in db.session.scalars(db.select(AuditEntry).filter_by(entity="ticket",
                                                                    entity_id=ticket.reference)):
        entry.before = {k: v for k, v in (entry.before or {}).items() if k not in PERSONAL_AUDIT_FIELDS}
        entry.after = {k: v for k, v in (entry.after or {}).items() if k not in PERSONAL_AUDIT_FIELDS}


def _erase_reports(condition) -> None:
    """Incident reports quote a contact or a search: their text and session go."""
    db.session.execute(db.update(IncidentReport).where(condition).values(text=ERASED, session_id=""))


def _delete_events(condition) -> int:
    ids = db.session.scalars(db.select(Event.id).where(condition)).all()
    if ids:
        db.session.execute(db.delete(TicketSignal).where(TicketSignal.event_id.in_(ids)))
        db.session.execute(db.delete(Event).where(Event.id.in_(ids)))
    return len(ids)


def apply_retention(now: dt.datetime | None = None) -> dict[str, int]:
    """Delete old events and erase old closed tickets; counts of what was removed."""
    now = now or utcnow()
    config = current_app.config
    events_before = now - dt.timedelta(days=config["RETENTION_EVENT_DAYS"])
    events = _delete_events(Event.created_at < events_before)
    queries = rollup.forget_queries_before(events_before.date())
    _erase_reports(IncidentReport.created_at < events_before)
    deliveries = db.session.execute(db.delete(WebhookDelivery)
                                    .where(WebhookDelivery.created_at < events_before)).rowcount
    closed_before = now - dt.timedelta(days=config["RETENTION_TICKET_DAYS"])
    tickets = db.session.scalars(db.select(Ticket).where(
        Ticket.status == "closed", Ticket.updated_at < closed_before, Ticket.message != ERASED)).all()
    for ticket in tickets:
        _erase_ticket(ticket)
    db.session.commit()
    return {"events_deleted": events, "tickets_erased": len(tickets),
            "analytics_queries_deleted": queries, "webhook_deliveries_deleted": deliveries}


def erase_person(email: str) -> dict[str, int]:
    """Erase every ticket of ``email`` and delete the events of their sessions."""
    tickets = db.session.scalars(db.select(Ticket).where(
        db.func.lower(Ticket.email) == email.strip().lower())).all()
    sessions = {t.session_id for t in tickets if t.session_id}
    events = _delete_events(Event.session_id.in_(sessions)) if sessions else 0
    if sessions:
        _erase_reports(IncidentReport.session_id.in_(sessions))
    for ticket in tickets:
        _erase_ticket(ticket)
    db.session.commit()
    return {"tickets_erased": len(tickets), "events_deleted": events, "sessions": len(sessions)}
