"""Database models (SQLAlchemy 2.x declarative style); every table is imported here, so
``from kb_server import models`` registers them all (migrations compare against this).

- ``activity``: ``Site`` (a product site embedding the widget) and ``Event`` (what users did).
- ``tickets``: ``Ticket`` (line-1 requests and knowledge-gap tickets) and ``TicketSignal``.
- ``staff``: ``User``, ``ApiToken``, ``AuditEntry``, ``TicketMessage``, ``Macro`` (the console).
- ``integrations``: ``Webhook``, ``WebhookDelivery`` (outbound webhooks).
"""
from kb_server.models.base import utcnow
from kb_server.models.activity import EVENT_KINDS, REPORTED_KINDS, Event, Site
from kb_server.models.tickets import Ticket, TicketSignal
from kb_server.models.staff import ApiToken, AuditEntry, Macro, TicketMessage, User
from kb_server.models.integrations import Webhook, WebhookDelivery

__all__ = ["EVENT_KINDS", "REPORTED_KINDS", "ApiToken", "AuditEntry", "Event", "Macro", "Site",
           "Ticket", "TicketMessage", "TicketSignal", "User", "Webhook", "WebhookDelivery", "utcnow"]
