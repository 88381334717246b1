"""Staff accounts, their API tokens, the audit trail, and the console's own tables.

- ``User``: a staff account (role ``admin``, ``editor``, ``analyst`` or ``agent`` with a
  support ``line`` 1-4); the password is stored as a werkzeug scrypt hash.
- ``ApiToken``: a personal bearer token of the staff API, stored as its SHA-256 (the token
  itself is shown once), revocable, with the time it was last used.
- ``AuditEntry``: one change to a ticket, user or setting: who, when, what, before/after.
- ``TicketMessage``: the conversation of a ticket: replies to the user, internal notes,
  escalations and the user's own messages.
- ``Macro``: a canned answer with ``{placeholders}`` (see ``kb_server.console.macros``).
"""
from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb_server.extensions import db
from kb_server.models.base import utcnow

ROLES = ("admin", "editor", "analyst", "agent")
MESSAGE_KINDS = ("reply", "note", "user", "escalation", "system")
DELIVERY_STATES = ("queued", "sent", "outbox", "failed")     # of a reply (tickets.delivery)


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default="agent")     # one of ROLES
    line: Mapped[int | None] = mapped_column(Integer)                  # agents: 1..4
    password_hash: Mapped[str] = mapped_column(String(256), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    @property
    def is_active(self) -> bool:       # Flask-Login: a deactivated account cannot log in
        return bool(self.active)

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def to_dict(self) -> dict:
        return {"id": self.id, "email": self.email, "name": self.name, "role": self.role,
                "line": self.line, "active": bool(self.active),
                "created_at": iso(self.created_at), "last_login_at": iso(self.last_login_at)}


class ApiToken(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)  # sha256 hex
    prefix: Mapped[str] = mapped_column(String(16), default="")    # shown to tell tokens apart
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "prefix": self.prefix,
                "created_at": iso(self.created_at), "last_used_at": iso(self.last_used_at),
                "revoked_at": iso(self.revoked_at)}


class AuditEntry(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor: Mapped[str] = mapped_column(String(254), default="")       # e-mail, or "cli"/"system"
    entity: Mapped[str] = mapped_column(String(16), index=True)      # ticket | user | setting
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict] = mapped_column(JSON, default=dict)
    after: Mapped[dict] = mapped_column(JSON, default=dict)

    def to_dict(self) -> dict:
        return {"at": iso(self.at), "actor": self.actor, "entity": self.entity,
                "entity_id": self.entity_id, "action": self.action,
                "before": self.before or {}, "after": self.after or {}}


class TicketMessage(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))                     # one of MESSAGE_KINDS
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    author: Mapped[str] = mapped_column(String(254), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    delivery: Mapped[str] = mapped_column(String(16), default="")     # replies: queued, sent...
    data: Mapped[dict] = mapped_column(JSON, default=dict)           # escalation: lines, reason
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "author": self.author, "body": self.body,
                "delivery": self.delivery, "data": self.data or {},
                "created_at": iso(self.created_at)}


class Macro(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "body": self.body}
