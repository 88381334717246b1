"""Database models (SQLAlchemy 2.x declarative style); every table is imported here, so
``from kb_server import models`` registers them all (migrations compare against this).

- ``activity``: ``Site`` (a product site embedding the widget) and ``Event`` (what users did).
- ``tickets``: ``Ticket`` (line-1 requests, knowledge-gap and incident tickets), ``TicketSignal``,
  ``ClassCorrection``, ``IncidentReport``, ``IncidentNotice``.
- ``staff``: ``User``, ``ApiToken``, ``AuditEntry``, ``TicketMessage``, ``Macro`` (the console).
"""
from kb_server.models.base import utcnow
from kb_server.models.activity import EVENT_KINDS, REPORTED_KINDS, Event, Site
from kb_server.models.tickets import (ClassCorrection, IncidentNotice, IncidentReport, Ticket,
                                     TicketSignal)
from kb_server.models.staff import ApiToken, AuditEntry, Macro, TicketMessage, User

__all__ = ["EVENT_KINDS", "REPORTED_KINDS", "ApiToken", "AuditEntry", "ClassCorrection", "Event",
           "IncidentNotice", "IncidentReport", "Macro", "Site", "Ticket", "TicketMessage",
           "TicketSignal", "User", "utcnow"]
