"""An article's front matter and body as the editor form (or a file) gives them, validated by
the same parser that reads ``articles/`` (``indexer.articles.parse_article``), and the Markdown
file they make."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Mapping

import yaml

from indexer.articles import Article, ArticleError, parse_article
from indexer.articles.article import VISIBILITIES
from indexer.articles.categories import first_category, load_categories
from kb_server.console.strings import STRINGS, SaidError

MAX_BODY = 200_000
LIMITS = {"title": 300, "slug": 100, "translation_key": 100, "category": 64, "summary": 1000,
          "visibility": 16, "language": 8}
MAX_LIST = 30          # tags and URL patterns
MAX_ITEM = 300


class AuthoringError(SaidError):
    """A refused authoring request: a ``Said`` message (``message``: the English text) and the
    HTTP ``status``."""

    def __init__(self, key: str, status: int = 400, **values):
        super().__init__(key, **values)
        self.status = status


@dataclass
class Fields:
    """Everything one revision holds (what a file's front matter and body hold)."""

    title: str
    slug: str
    language: str
    translation_key: str = ""
    category: str = ""         # new articles: ``default_category``
    tags: list[str] = field(default_factory=list)
    summary: str = ""
    visibility: str = "public"
    urls: list[str] = field(default_factory=list)
    body: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    def file_text(self, status: str = "published", updated: str | None = None) -> str:
        """The Markdown file: YAML front matter (``kb check``'s format) and the body."""
        meta = {"title": self.title, "slug": self.slug, "language": self.language,
                "category": self.category, "tags": self.tags, "summary": self.summary,
                "translation_key": self.translation_key or self.slug, "status": status,
                "visibility": self.visibility,
                "updated": updated or dt.datetime.now(dt.timezone.utc).date().isoformat(),
                "urls": self.urls}
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
        body = self.body if self.body.endswith("\n") else self.body + "\n"
        return f"---\n{front}---\n{body}"


def _list(value) -> list[str]:
    """Tags (comma separated) or URL patterns (one per line) from a form or JSON."""
    if isinstance(value, list):
        items = value
    else:
        text = str(value or "")
        items = text.splitlines() if "\n" in text else text.split(",")
    items = [str(item).strip() for item in items if str(item).strip()]
    if len(items) > MAX_LIST or any(len(item) > MAX_ITEM for item in items):
        raise AuthoringError("err_list_too_long", n=MAX_LIST, limit=MAX_ITEM)
    return items


def _text(form: Mapping, name: str) -> str:
    value = form.get(name)
    value = "" if value is None else str(value)
    limit = LIMITS.get(name, MAX_BODY)
    if len(value) > limit:
        raise AuthoringError("err_too_long", name=name, limit=limit)
    return value.strip() if name != "body" else value.replace("\r\n", "\n")


def default_category(articles_dir: str) -> str:
    """The category a new article starts in: the first of ``categories.yml`` in the help
    center's order (as a file without one is filed), or none when no categories are configured."""
    return first_category(load_categories(articles_dir))


def from_form(form: Mapping, articles_dir: str) -> Fields:
    """Validated fields from the editor form (or JSON); ``AuthoringError`` names the problem."""
    fields = Fields(
        title=_text(form, "title"), slug=_text(form, "slug").lower(),
        language=_text(form, "language"), translation_key=_text(form, "translation_key"),
        category=_text(form, "category") or default_category(articles_dir),
        tags=_list(form.get("tags")),
        summary=_text(form, "summary"), visibility=_text(form, "visibility") or "public",
        urls=_list(form.get("urls")), body=_text(form, "body"))
    if fields.visibility not in VISIBILITIES:
        raise AuthoringError("err_visibility", values=", ".join(VISIBILITIES))
    validate(fields, load_categories(articles_dir))
    fields.translation_key = fields.translation_key or fields.slug
    return fields


def validate(fields: Fields, categories: Mapping[str, dict] | None = None) -> Article:
    """The article the fields make, parsed as ``kb check`` would (its category one of
    ``categories``); ``AuthoringError`` if not."""
    try:
        return parse_article(fields.file_text(), path=f"{fields.language}/{fields.slug}.md",
                             render=False, categories=categories)
    except ArticleError as exc:   # the field at fault, if the parser names one the editor says
        if exc.field == "category":
            raise AuthoringError("err_category", name=exc.value,
                                 categories=", ".join(categories or {})) from None
        key = f"err_article_{exc.field}"
        raise AuthoringError(key if key in STRINGS else "err_article_file", message=exc.message,
                             value=exc.value) from None


def from_article(article: Article) -> Fields:
    """The fields of an article parsed from a file."""
    return Fields(title=article.title, slug=article.slug, language=article.language,
                  translation_key=article.translation_key, category=article.category,
                  tags=list(article.tags), summary=article.summary,
                  visibility=article.visibility, urls=list(article.urls), body=article.body)


def from_revision(revision) -> Fields:
    return Fields(**{name: getattr(revision, name) for name in Fields.__dataclass_fields__})
