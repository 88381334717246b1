"""Outbound webhooks (``kb_server.webhooks``).

- ``Webhook``: an endpoint an admin configured: URL, signing secret, the events it wants.
- ``WebhookDelivery``: one event for one endpoint: the exact JSON body sent on every attempt,
  its state (``pending`` -> ``delivered`` or ``failed``), the attempts with their status code
  or error, and when the next retry is due. Unique per endpoint and event id, so an event is
  never delivered twice to the same endpoint.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kb_server.extensions import db
from kb_server.models.base import utcnow
from kb_server.models.tickets import iso

WEBHOOK_EVENTS = ("ticket.created", "ticket.updated", "ticket.escalated", "ticket.resolved")


class Webhook(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))       # signs the deliveries (HMAC-SHA256)
    events: Mapped[list] = mapped_column(JSON, default=list)        # some of WEBHOOK_EVENTS
    description: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    def to_dict(self) -> dict:
        """JSON form (the secret only as its first characters)."""
        return {"id": self.id, "url": self.url, "events": list(self.events or []),
                "description": self.description, "active": bool(self.active),
                "secret_hint": self.secret[:4] + "…", "created_at": iso(self.created_at)}


class WebhookDelivery(db.Model):
    __table_args__ = (UniqueConstraint("webhook_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    event: Mapped[str] = mapped_column(String(32))                  # one of WEBHOOK_EVENTS
    ticket_reference: Mapped[str] = mapped_column(String(16), default="")
    body: Mapped[str] = mapped_column(Text)                         # the exact JSON sent
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer)        # HTTP status of the last try
    last_error: Mapped[str] = mapped_column(Text, default="")
    log: Mapped[list] = mapped_column(JSON, default=list)           # [{at, status, error}]
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)

    def to_dict(self) -> dict:
        return {"id": self.id, "webhook_id": self.webhook_id, "event_id": self.event_id,
                "event": self.event, "ticket": self.ticket_reference, "state": self.state,
                "attempts": self.attempts, "last_status": self.last_status,
                "last_error": self.last_error, "log": list(self.log or []),
                "next_attempt_at": iso(self.next_attempt_at),
                "delivered_at": iso(self.delivered_at), "created_at": iso(self.created_at)}
