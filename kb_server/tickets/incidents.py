"""Outages noticed within minutes: a burst of alike reports opens one incident ticket.

A report is a contact whose suggested class is ``outage``, or a failed (zero-result) search whose
words match the outage class's rules or keywords ("error 503", "сайт лежит"). Every report is
stored (``IncidentReport``). While an incident is open, each report joins it: its ``reports``
count grows and a contact's own ticket (which keeps its class) is linked to it. Otherwise, once
``INCIDENT_REPORTS`` reports from distinct users (sessions) arrived within
``INCIDENT_WINDOW_MINUTES``, one incident ticket opens: kind ``incident``, class ``outage``, P1,
on line 1 flagged to line 2, with every report of the window linked.

``resolve`` (the ``resolve-incident`` action) resolves the linked open tickets and answers their
users with one text through the ordinary reply path; ``publish_notice`` puts a short notice per
language on top of the widget and help center until it is ended or the incident resolved.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter

from flask import current_app
from sqlalchemy import select

from kb_server.extensions import db
from kb_server.models import IncidentNotice, IncidentReport, Ticket, utcnow
from kb_server.models.tickets import OPEN_STATUSES
from kb_server.tickets import sla
from kb_server.tickets.classify import classify

OUTAGE = "outage"
FLAGGED_LINE = 2
NOTICE_CHARS = 300


def settings() -> tuple[int, dt.timedelta]:
    config = current_app.config
    return config["INCIDENT_REPORTS"], dt.timedelta(minutes=config["INCIDENT_WINDOW_MINUTES"])


def observe_contact(ticket: Ticket, now: dt.datetime) -> None:
    """A contact ticket suggested ``outage`` (flushed, not committed: the caller commits)."""
    _observe(IncidentReport(kind="contact", text=(ticket.message or ticket.subject)[:500],
                            language=ticket.language, session_id=ticket.session_id,
                            ticket_id=ticket.id, created_at=now))


def observe_search(event) -> None:
    """A failed search: a report when its words say outage (committed by the caller)."""
    if classify(event.query, "gap").request_class != OUTAGE:
        return
    _observe(IncidentReport(kind="search", text=(event.query or "")[:500],
                            language=event.language or "", session_id=event.session_id or "",
                            created_at=event.created_at or utcnow()))


def open_incident() -> Ticket | None:
    return db.session.scalar(select(Ticket).where(Ticket.kind == "incident",
                                                  Ticket.status.in_(OPEN_STATUSES))
                             .order_by(Ticket.id.desc()).limit(1))


def _observe(report: IncidentReport) -> None:
    db.session.add(report)
    db.session.flush()
    incident = open_incident()
    if incident is not None:
        _link(report, incident)
        return
    threshold, window = settings()
    recent = list(db.session.scalars(
        select(IncidentReport).where(IncidentReport.incident_id.is_(None),
                                     IncidentReport.created_at >= report.created_at - window)
        .order_by(IncidentReport.id)))
    users = {r.session_id or f"report-{r.id}" for r in recent}
    if len(users) >= threshold:
        incident = _open(recent, report.created_at)
        for each in recent:
            _link(each, incident)


def _open(reports: list[IncidentReport], now: dt.datetime) -> Ticket:
    language = Counter(r.language for r in reports if r.language).most_common(1)
    incident = Ticket(kind="incident", status="new", line=1, flagged_line=FLAGGED_LINE,
                      request_class=OUTAGE, priority="P1", suggested_class=OUTAGE,
                      suggestion_confidence=1.0, reports=0,
                      language=language[0][0] if language else "", created_at=now,
                      message="\n".join(r.text for r in reports[:10]),
                      context={"classification": {"request_class": OUTAGE, "priority": "P1",
                                                  "confidence": 1.0, "method": "incident",
                                                  "reason": f"{len(reports)} outage reports "
                                                            "within the incident window"}})
    sla.start_clock(incident, now)
    db.session.add(incident)
    db.session.flush()
    incident.assign_reference()
    return incident


def _link(report: IncidentReport, incident: Ticket) -> None:
    report.incident_id = incident.id
    incident.reports = (incident.reports or 0) + 1
    incident.subject = subject(incident.reports, report.text if incident.reports == 1 else
                               _first_text(incident))
    if report.ticket_id:
        db.session.get(Ticket, report.ticket_id).incident_id = incident.id
    incident.updated_at = utcnow()


def _first_text(incident: Ticket) -> str:
    return db.session.scalar(select(IncidentReport.text).where(IncidentReport.incident_id == incident.id)
                             .order_by(IncidentReport.id).limit(1)) or ""


def subject(reports: int, first: str) -> str:
    """What line 1 reads: 'Possible outage: 5 reports ("сайт лежит")'."""
    sample = first if len(first) <= 60 else first[:59] + "…"
    return f'Possible outage: {reports} report{"" if reports == 1 else "s"} ("{sample}")'


def linked_tickets(incident: Ticket) -> list[Ticket]:
    return list(db.session.scalars(select(Ticket).where(Ticket.incident_id == incident.id)
                                   .order_by(Ticket.id)))


# --- notices -----------------------------------------------------------------------------------
def publish_notice(incident: Ticket, texts: dict[str, str], author_id: int | None) -> IncidentNotice:
    """The incident's notice (replacing the one it had)."""
    end_notices(incident)
    notice = IncidentNotice(incident_id=incident.id, texts=texts, active=True, author_id=author_id,
                            created_at=utcnow())
    db.session.add(notice)
    return notice


def end_notices(incident: Ticket) -> int:
    notices = db.session.scalars(select(IncidentNotice).filter_by(incident_id=incident.id, active=True)).all()
    for notice in notices:
        notice.active, notice.ended_at = False, utcnow()
    return len(notices)


def active_notices(language: str) -> list[dict]:
    """The notices shown now, in ``language`` (else English), newest first."""
    notices = db.session.scalars(select(IncidentNotice).filter_by(active=True)
                                 .order_by(IncidentNotice.id.desc())).all()
    return [{"id": n.id, "text": n.text_for(language), "since": n.created_at.isoformat() + "Z"}
            for n in notices]
