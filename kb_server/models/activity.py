"""Sites and what users do on them.

- ``Site``: a product site that embeds the widget (its key, allowed origins, language, categories).
- ``Event``: what users did in a search session (search, click, view, feedback, contact).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb_server.extensions import db
from kb_server.models.base import utcnow

# What the widget and help center report to ``POST /events``; feedback and contact events are
# recorded by their own endpoints.
REPORTED_KINDS = ("search", "click", "view")
EVENT_KINDS = REPORTED_KINDS + ("feedback", "contact")


def normalize_origin(origin: str) -> str:
    """``https://App.example.com/`` -> ``https://app.example.com`` (how origins are compared)."""
    return origin.strip().rstrip("/").lower()


class Site(db.Model):
    """A product site allowed to embed the widget, identified by its public key."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    origins: Mapped[list] = mapped_column(JSON, default=list)        # ["https://app.example.com"]
    default_language: Mapped[str] = mapped_column(String(8), default="en")
    categories: Mapped[list] = mapped_column(JSON, default=list)     # [] = every category

    def allows_origin(self, origin: str | None) -> bool:
        return bool(origin) and normalize_origin(origin) in {normalize_origin(o) for o in self.origins or []}

    def to_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "origins": self.origins or [],
                "default_language": self.default_language, "categories": self.categories or []}


class Event(db.Model):
    """One thing a user did, in an anonymous search session (the raw material of analytics
    and of knowledge-gap tickets)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)          # one of EVENT_KINDS
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    site_key: Mapped[str] = mapped_column(String(64), default="", index=True)  # "" = help center
    query: Mapped[str] = mapped_column(String(500), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    result_count: Mapped[int] = mapped_column(Integer, default=0)
    result_ids: Mapped[list] = mapped_column(JSON, default=list)     # article ids shown
    article_id: Mapped[str] = mapped_column(String(200), default="")  # clicked / viewed / rated
    page_url: Mapped[str] = mapped_column(String(2000), default="")
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)           # kind-specific extras
    message: Mapped[str] = mapped_column(Text, default="")           # feedback free text

    def to_dict(self) -> dict:
        return {"id": self.id, "created_at": self.created_at.isoformat() + "Z", "kind": self.kind,
                "session_id": self.session_id, "site_key": self.site_key, "query": self.query,
                "language": self.language, "result_count": self.result_count,
                "result_ids": self.result_ids or [], "article_id": self.article_id,
                "page_url": self.page_url, "user_agent": self.user_agent,
                "data": self.data or {}, "message": self.message}

