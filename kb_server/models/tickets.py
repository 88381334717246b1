"""Ticket tables.

- ``Ticket``: a line-1 request, either an explicit ``contact`` from a user or a ``gap``: the
  anonymous unresolved searches of one need, grouped (see ``rules.py``).
  Staff work fields: assignee, pending reason, the facts line 1 collected, line 4's outside
  party and reference, the ticket it was merged into.
- ``TicketSignal``: the outcome of checking one search/feedback event against the unresolved
  rules. Its unique ``event_id`` makes processing idempotent; a signal that joined a gap ticket
  points at it, and its ``session_id`` lets the ticket count distinct users.
- ``ClassCorrection``: an agent changed the suggested request class (``tickets/corrections.py``):
  the request's text and the right class, a new example, and the suggestions' accuracy.
- ``IncidentReport``: one contact or failed search of an incident class (``request_class``,
  ``outage`` by default; ``tickets/incidents.py``); a burst of alike ones opens an ``incident``
  ticket of that class, which each later alike report joins.
- ``IncidentNotice``: a short notice staff publish from an incident, per language, shown on top
  of the widget and help center while active.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from kb_server.extensions import db
from kb_server.models.base import utcnow

KINDS = ("contact", "gap", "incident")
STATUSES = ("new", "open", "pending", "resolved", "closed")
OPEN_STATUSES = ("new", "open", "pending")
PENDING_REASONS = ("user", "third_party")
LINES = (1, 2, 3, 4)
REFERENCE_PREFIX = "LZ-"


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


class Ticket(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(16), unique=True, index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)              # one of KINDS
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    line: Mapped[int] = mapped_column(Integer, default=1, index=True)      # support line 1..4
    request_class: Mapped[str] = mapped_column(String(40), default="")
    priority: Mapped[str] = mapped_column(String(8), default="P4", index=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    message: Mapped[str] = mapped_column(Text, default="")                 # raw user text
    email: Mapped[str] = mapped_column(String(254), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    site_key: Mapped[str] = mapped_column(String(64), default="")
    page_url: Mapped[str] = mapped_column(String(2000), default="")
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    session_id: Mapped[str] = mapped_column(String(64), default="")
    context: Mapped[dict] = mapped_column(JSON, default=dict)    # session: queries, results, ...
    gap_key: Mapped[str] = mapped_column(String(500), default="", index=True)  # need's tokens
    gap_query: Mapped[str] = mapped_column(String(500), default="")            # headline query
    gap_users: Mapped[int] = mapped_column(Integer, default=0)
    gap_first_seen: Mapped[dt.datetime | None] = mapped_column(DateTime)
    gap_last_seen: Mapped[dt.datetime | None] = mapped_column(DateTime)
    gap: Mapped[dict] = mapped_column(JSON, default=dict)  # queries, languages, pages, articles...
    sla_first_response_due: Mapped[dt.datetime | None] = mapped_column(DateTime)
    sla_resolution_due: Mapped[dt.datetime | None] = mapped_column(DateTime)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    pending_reason: Mapped[str] = mapped_column(String(16), default="")   # PENDING_REASONS
    facts: Mapped[dict] = mapped_column(JSON, default=dict)    # fact name -> what line 1 found
    outside_party: Mapped[str] = mapped_column(String(200), default="")   # line 4: who
    outside_reference: Mapped[str] = mapped_column(String(200), default="")  # their ticket
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    # SLA on business hours (``tickets/sla.py``, ``sla_watch.py``) and the user's rating
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # set on every change
    sla_state: Mapped[str] = mapped_column(String(16), default="", index=True)
    sla_next_due: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    sla_fired: Mapped[list] = mapped_column(JSON, default=list)   # keys of SLA actions taken
    csat_rating: Mapped[str] = mapped_column(String(8), default="")  # "" | good | bad
    csat_comment: Mapped[str] = mapped_column(Text, default="")
    csat_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # the class suggested when the ticket was made (``tickets/classify.py``) and how sure it was;
    # incidents: the incident a ticket is linked to, the line it is flagged to, its report count
    suggested_class: Mapped[str] = mapped_column(String(40), default="")
    suggestion_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    flagged_line: Mapped[int | None] = mapped_column(Integer)
    reports: Mapped[int] = mapped_column(Integer, default=0)
    # a contact's follow-up (``service.contact_follow_up``) not done yet: since when it is due
    # (the commit), and the text it classifies; both cleared when it is done
    follow_up_due: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    follow_up_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow,
                                                    index=True)

    def assign_reference(self) -> None:
        """``LZ-000042`` from the row id (call after a flush)."""
        self.reference = f"{REFERENCE_PREFIX}{self.id:06d}"

    def gap_dict(self) -> dict | None:
        if self.kind != "gap":
            return None
        gap = self.gap or {}
        queries = gap.get("queries", {})
        return {
            "key": self.gap_key, "query": self.gap_query, "users": self.gap_users,
            "first_seen": iso(self.gap_first_seen), "last_seen": iso(self.gap_last_seen),
            "sample_queries": sorted(queries, key=lambda q: -queries[q]),
            "languages": gap.get("languages", []), "pages": gap.get("pages", []),
            "sites": gap.get("sites", []), "signals": gap.get("signals", {}),
            "articles": gap.get("articles", {}), "comments": gap.get("comments", []),
        }

    def to_dict(self, detail: bool = False) -> dict:
        """JSON form; text fields are plain text (escape them when rendering HTML)."""
        data = {
            "reference": self.reference, "kind": self.kind, "status": self.status,
            "line": self.line, "request_class": self.request_class, "priority": self.priority,
            "subject": self.subject, "message": self.message, "email": self.email,
            "name": self.name, "language": self.language, "site_key": self.site_key,
            "page_url": self.page_url, "user_agent": self.user_agent, "gap": self.gap_dict(),
            "sla_first_response_due": iso(self.sla_first_response_due),
            "sla_resolution_due": iso(self.sla_resolution_due),
            "first_response_at": iso(self.first_response_at),
            "resolved_at": iso(self.resolved_at), "assignee_id": self.assignee_id,
            "pending_reason": self.pending_reason, "facts": self.facts or {},
            "outside_party": self.outside_party, "outside_reference": self.outside_reference,
            "sla_state": self.sla_state,
            "suggestion": (self.context or {}).get("classification"),
            "incident_id": self.incident_id, "flagged_line": self.flagged_line,
            "reports": self.reports,
            "sla_next_due": iso(self.sla_next_due),
            "csat": {"rating": self.csat_rating, "comment": self.csat_comment,
                     "at": iso(self.csat_at)} if self.csat_rating else None,
            "created_at": iso(self.created_at), "updated_at": iso(self.updated_at),
        }
        if detail:
            data["session_id"] = self.session_id
            data["context"] = self.context or {}
        return data


@event.listens_for(Ticket.status, "set")
def _status_changed(ticket: Ticket, value: str, old, initiator) -> None:
    """Every status change, whoever makes it, is timed (the SLA clock's default history)."""
    if value != old:
        ticket.status_changed_at = utcnow()


class TicketSignal(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, unique=True, index=True)
    rule: Mapped[str] = mapped_column(String(16))   # zero_results | no_click | not_helpful | off_topic | none
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    session_id: Mapped[str] = mapped_column(String(64), default="")
    processed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ClassCorrection(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")          # what the class was judged on
    language: Mapped[str] = mapped_column(String(8), default="")
    suggested_class: Mapped[str] = mapped_column(String(40), default="")
    corrected_class: Mapped[str] = mapped_column(String(40))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class IncidentReport(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))                # contact | search
    request_class: Mapped[str] = mapped_column(String(40), default="outage", server_default="outage")
    text: Mapped[str] = mapped_column(String(500), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    session_id: Mapped[str] = mapped_column(String(64), default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))   # the user's own
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class IncidentNotice(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    texts: Mapped[dict] = mapped_column(JSON, default=dict)      # language -> notice
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    def text_for(self, language: str) -> str:
        """The notice in ``language``, else English, else any language it has."""
        texts = self.texts or {}
        return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")
