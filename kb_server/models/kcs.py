"""The knowledge-base side of tickets (KCS: knowledge-centered service).

- ``TicketArticle``: a ticket linked to an article: the article it was resolved with, the one
  created from it, or one it refers to (``RELATIONS``). Articles live in files and the index,
  not in the database, so a link names the article (language + slug, and its translation key,
  which survives a renamed slug in another language) and keeps its title as it was linked.
- ``ArticleFlag``: "flag it or fix it": an agent says an article is wrong, outdated or missing
  information, with a comment, from a ticket; editors resolve the flag with a note.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kb_server.extensions import db
from kb_server.models.base import utcnow
from kb_server.models.tickets import iso

RELATIONS = ("resolved_with", "created_from", "referenced")
FLAG_REASONS = ("wrong", "outdated", "missing_info")
FLAG_STATUSES = ("open", "resolved")


class TicketArticle(db.Model):
    __table_args__ = (UniqueConstraint("ticket_id", "article_language", "article_slug", "relation",
                                       name="uq_ticket_article_link"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    article_language: Mapped[str] = mapped_column(String(8))
    article_slug: Mapped[str] = mapped_column(String(200), index=True)
    translation_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    relation: Mapped[str] = mapped_column(String(16))                  # one of RELATIONS
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor: Mapped[str] = mapped_column(String(254), default="")       # e-mail, or "system"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)

    @property
    def article_id(self) -> str:
        return f"{self.article_language}/{self.article_slug}"

    def to_dict(self) -> dict:
        return {"article": self.article_id, "language": self.article_language,
                "slug": self.article_slug, "translation_key": self.translation_key,
                "title": self.title, "relation": self.relation, "actor": self.actor,
                "created_at": iso(self.created_at)}


class ArticleFlag(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    article_language: Mapped[str] = mapped_column(String(8))
    article_slug: Mapped[str] = mapped_column(String(200), index=True)
    translation_key: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(300), default="")
    reason: Mapped[str] = mapped_column(String(16))                    # one of FLAG_REASONS
    comment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # FLAG_STATUSES
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_by: Mapped[str] = mapped_column(String(254), default="")
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolution_note: Mapped[str] = mapped_column(Text, default="")

    @property
    def article_id(self) -> str:
        return f"{self.article_language}/{self.article_slug}"

    def to_dict(self) -> dict:
        return {"id": self.id, "article": self.article_id, "title": self.title,
                "translation_key": self.translation_key, "reason": self.reason,
                "comment": self.comment, "status": self.status, "created_by": self.created_by,
                "created_at": iso(self.created_at), "resolved_by": self.resolved_by,
                "resolved_at": iso(self.resolved_at), "resolution_note": self.resolution_note}
