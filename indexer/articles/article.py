"""The article model: one article in one language, parsed, rendered and split into sections."""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field

from indexer.render import Section

STATUSES = ("published", "draft")
VISIBILITIES = ("public", "internal")


@dataclass
class ArticleError(Exception):
    """A problem in one article file, pointing at the line to fix (and at the front-matter
    ``field`` with its ``value``, when one field is at fault: the editor says it in the UI's
    language); ``more``: the file's other errors, ``warnings`` its warnings (the parser reports
    everything of a file at once)."""

    path: str
    line: int
    message: str
    field: str = ""
    value: str = ""
    # (``dataclasses.field``: ``field`` is the attribute above in this class body)
    more: list["ArticleError"] = dataclasses.field(default_factory=list, compare=False, repr=False)
    warnings: list["ArticleWarning"] = dataclasses.field(default_factory=list, compare=False,
                                                         repr=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"

    @property
    def every(self) -> list["ArticleError"]:
        """This error and the file's other errors, in line order."""
        return [self, *self.more]


@dataclass
class ArticleWarning:
    """Something to fix in an article file that does not stop it from being published (an
    unknown front matter key, a link to a missing article)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: warning: {self.message}"


@dataclass
class Article:
    """One article in one language, parsed, rendered and split into sections."""

    slug: str
    language: str
    title: str
    body: str = ""          # Markdown source; not kept in the catalog
    category: str = "general"
    tags: list[str] = field(default_factory=list)
    summary: str = ""
    translation_key: str = ""
    status: str = "published"
    visibility: str = "public"
    updated: str = ""
    urls: list[str] = field(default_factory=list)
    path: str = ""
    html: str = ""
    toc: list[dict] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    # what the parser found worth fixing that does not stop the article (``kb check`` prints it)
    warnings: list[ArticleWarning] = field(default_factory=list, repr=False, compare=False)
    body_line: int = field(default=1, repr=False, compare=False)   # the body's first line in the file
    # content hash stored with an article loaded without its body (from a catalog)
    stored_hash: str = field(default="", init=False, repr=False, compare=False)

    @property
    def id(self) -> str:
        """Unique id of this language version: ``en/reset-password``."""
        return f"{self.language}/{self.slug}"

    @property
    def content_hash(self) -> str:
        """Hash of everything that affects indexing; unchanged hash -> nothing to redo."""
        if self.stored_hash:
            return self.stored_hash
        meta = "|".join([self.slug, self.language, self.title, self.category, ",".join(self.tags),
                         self.summary, self.translation_key, self.status, self.visibility,
                         self.updated, ",".join(self.urls)])
        return hashlib.sha1((meta + "\n" + self.body).encode("utf-8")).hexdigest()

    @property
    def is_public(self) -> bool:
        return self.status == "published" and self.visibility == "public"

    def visible_in(self, categories: tuple[str, ...] = ()) -> bool:
        """Shown to the public where ``categories`` are allowed (empty: every category)."""
        return self.is_public and (not categories or self.category in categories)

    def to_dict(self, body: bool = True) -> dict:
        """Plain data for JSON (catalog files, API). The catalog leaves out the Markdown
        ``body`` (nothing reads it after indexing; ``html`` and the sections are kept) and keeps
        ``content_hash``."""
        data = {
            "id": self.id, "slug": self.slug, "language": self.language, "title": self.title,
            "category": self.category, "tags": self.tags, "summary": self.summary,
            "translation_key": self.translation_key, "status": self.status,
            "visibility": self.visibility, "updated": self.updated, "urls": self.urls,
            "path": self.path, "body": self.body, "html": self.html, "toc": self.toc,
            "sections": [s.to_dict() for s in self.sections],
            "content_hash": self.content_hash,
        }
        if not body:
            del data["body"]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Article":
        known = {k: data[k] for k in (
            "slug", "language", "title", "body", "category", "tags", "summary", "translation_key",
            "status", "visibility", "updated", "urls", "path", "html", "toc") if k in data}
        article = cls(**known)
        article.sections = [Section(**s) for s in data.get("sections", [])]
        if "body" not in data:   # without the body the hash cannot be computed: keep the stored one
            article.stored_hash = data.get("content_hash", "")
        return article
