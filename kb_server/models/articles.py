"""Authoring: articles as the console edits them, their revisions and uploaded files.

- ``KbArticle``: one article in one language (``language`` + ``slug``; its versions in other
  languages share ``translation_key``), its KCS confidence ``state`` and how it stands with its
  file in ``articles/`` (``file_path``, ``file_hash``: SHA-256 of the bytes last written or
  read there; ``published_revision_id``: the revision that file holds); when it is due for
  review, and a scheduled publish; a translation, which version and revision it was
  translated from (``source_article_id``, ``source_revision``).
- ``ArticleRevision``: every save: the full front matter and Markdown body, who, when, why
  (``note``), how (``kind``) and the state it was saved in.
- ``ArticleUpload``: an image or attachment, stored under ``UPLOADS_DIR`` by content hash.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kb_server.extensions import db
from kb_server.models.base import utcnow
from kb_server.models.tickets import iso

# KCS confidence: work in progress -> not validated -> validated (published) -> archived
STATES = ("work_in_progress", "not_validated", "validated", "archived")
REVISION_KINDS = ("save", "autosave", "submit", "schedule", "publish", "archive", "restore", "file")


class KbArticle(db.Model):
    __table_args__ = (UniqueConstraint("language", "slug"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    translation_key: Mapped[str] = mapped_column(String(100), index=True)
    language: Mapped[str] = mapped_column(String(8), index=True)
    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300), default="")        # of the latest revision
    category: Mapped[str] = mapped_column(String(64), default="", index=True)
    state: Mapped[str] = mapped_column(String(24), default="work_in_progress", index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    source_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    current_revision_id: Mapped[int | None] = mapped_column(Integer)   # the latest save
    published_revision_id: Mapped[int | None] = mapped_column(Integer)  # what the file holds
    file_path: Mapped[str] = mapped_column(String(300), default="", index=True)  # "en/x.md"
    file_hash: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    review_due: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)  # re-check by
    # scheduled publishing: this revision, by this editor, at this time, from this file hash
    publish_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    scheduled_revision_id: Mapped[int | None] = mapped_column(Integer)
    scheduled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    scheduled_base_hash: Mapped[str] = mapped_column(String(64), default="")
    # a translation: the version it was translated from, and that version's revision number
    # then (outdated when the source has published a later revision)
    source_article_id: Mapped[int | None] = mapped_column(Integer, index=True)
    source_revision: Mapped[int | None] = mapped_column(Integer)

    @property
    def article_id(self) -> str:
        """The id search and events use: ``en/reset-password``."""
        return f"{self.language}/{self.slug}"

    def to_dict(self) -> dict:
        return {"id": self.id, "article": self.article_id, "title": self.title,
                "language": self.language, "slug": self.slug, "category": self.category,
                "translation_key": self.translation_key, "state": self.state,
                "published": self.published_revision_id is not None,
                "updated_at": iso(self.updated_at), "published_at": iso(self.published_at),
                "review_due": iso(self.review_due), "publish_at": iso(self.publish_at),
                "source_article_id": self.source_article_id, "source_revision": self.source_revision}


class ArticleRevision(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)                        # 1, 2, ... per article
    kind: Mapped[str] = mapped_column(String(16), default="save")     # one of REVISION_KINDS
    state: Mapped[str] = mapped_column(String(24))                     # the article's, saved
    title: Mapped[str] = mapped_column(String(300))
    slug: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(8))
    translation_key: Mapped[str] = mapped_column(String(100), default="")
    category: Mapped[str] = mapped_column(String(64), default="general")
    tags: Mapped[list] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    urls: Mapped[list] = mapped_column(JSON, default=list)
    body: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    author: Mapped[str] = mapped_column(String(254), default="")     # e-mail, or "file"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    def to_dict(self, with_body: bool = False) -> dict:
        fields = {"number": self.number, "kind": self.kind, "state": self.state,
                  "author": self.author, "note": self.note, "created_at": iso(self.created_at)}
        if with_body:
            fields.update(title=self.title, slug=self.slug, language=self.language,
                          category=self.category, tags=list(self.tags or []), summary=self.summary,
                          visibility=self.visibility, urls=list(self.urls or []), body=self.body)
        return fields


class ArticleUpload(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)   # sha256[:32].ext
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
