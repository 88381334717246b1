"""The knowledge base every node shares (``kb_server.shared_kb``, ``kb_server.follow``,
``kb_server.shared_vectors``).

- ``PublishedFile``: each file of the articles folder as last published (article Markdown,
  ``categories.yml``, ``synonyms.txt``), with the generation that last changed it; a deleted
  file stays as a row with ``deleted`` set, so a node that was away deletes it too.
- ``KbState``: one row, the generation counter: bumped by every change of the files.
- ``PassageVector``: a passage's vector by its text's hash and the model that made it, so no
  node embeds what another already embedded.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb_server.extensions import db
from kb_server.models.base import utcnow


class PublishedFile(db.Model):
    path: Mapped[str] = mapped_column(String(300), primary_key=True)   # relative: en/slug.md
    content: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)   # an image's bytes
    content_hash: Mapped[str] = mapped_column(String(64), default="")  # SHA-256 of the bytes
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    generation: Mapped[int] = mapped_column(Integer, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class KbState(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)          # always 1
    generation: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PassageVector(db.Model):
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)             # float32, little-endian
