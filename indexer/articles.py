"""Articles: Markdown files with YAML front matter -> validated ``Article`` objects.

An article file looks like::

    ---
    title: Reset your password
    slug: reset-password
    language: en
    category: sign-in
    ---
    Body in Markdown...

``load_articles`` never stops at a broken file: it returns the good articles and a list of
``ArticleError`` (file, line, message) for the others, so one typo cannot take the knowledge
base down.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from indexer.render import Section, render_markdown

LANGUAGES = ("en", "ru", "uk")
STATUSES = ("published", "draft")
VISIBILITIES = ("public", "internal")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.S | re.M)


@dataclass
class ArticleError(Exception):
    """A problem in one article file, pointing at the line to fix."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Article:
    """One article in one language, parsed, rendered and split into sections."""

    slug: str
    language: str
    title: str
    body: str
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

    @property
    def id(self) -> str:
        """Unique id of this language version: ``en/reset-password``."""
        return f"{self.language}/{self.slug}"

    @property
    def content_hash(self) -> str:
        """Hash of everything that affects indexing; unchanged hash -> nothing to redo."""
        meta = "|".join([self.slug, self.language, self.title, self.category, ",".join(self.tags),
                         self.summary, self.translation_key, self.status, self.visibility,
                         self.updated, ",".join(self.urls)])
        return hashlib.sha1((meta + "\n" + self.body).encode("utf-8")).hexdigest()

    @property
    def is_public(self) -> bool:
        return self.status == "published" and self.visibility == "public"

    def to_dict(self) -> dict:
        """Plain data for JSON (catalog files, API)."""
        return {
            "id": self.id, "slug": self.slug, "language": self.language, "title": self.title,
            "category": self.category, "tags": self.tags, "summary": self.summary,
            "translation_key": self.translation_key, "status": self.status,
            "visibility": self.visibility, "updated": self.updated, "urls": self.urls,
            "path": self.path, "body": self.body, "html": self.html, "toc": self.toc,
            "sections": [s.to_dict() for s in self.sections],
            "content_hash": self.content_hash,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Article":
        known = {k: data[k] for k in (
            "slug", "language", "title", "body", "category", "tags", "summary", "translation_key",
            "status", "visibility", "updated", "urls", "path", "html", "toc") if k in data}
        article = cls(**known)
        article.sections = [Section(**s) for s in data.get("sections", [])]
        return article


def _line_of_key(front_matter: str, key: str) -> int:
    """Line (1-based, counting the opening ``---``) where ``key:`` appears in the front matter."""
    for number, line in enumerate(front_matter.splitlines(), start=2):
        if re.match(rf"^{re.escape(key)}\s*:", line):
            return number
    return 1


def _yaml_error_line(exc: yaml.YAMLError, front_matter: str) -> int:
    """File line of a YAML error. At the end of the front matter (an unclosed bracket or quote)
    the parser's position is the closing ``---``; the line where the construct began is the one
    to fix."""
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return 1
    last = max(len(front_matter.splitlines()) - 1, 0)
    if mark.line > last:
        context = getattr(exc, "context_mark", None)
        return (context.line if context is not None else last) + 2
    return mark.line + 2


def _as_list(value, path: str, line: int, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    raise ArticleError(path, line, f"'{key}' must be a list of strings")


def parse_article(text: str, path: str = "<string>", default_language: str | None = None) -> Article:
    """Parse one article file's text. Raises ``ArticleError`` naming the file and line."""
    match = FRONT_MATTER_RE.match(text)
    if not match:
        raise ArticleError(path, 1, "missing YAML front matter (the file must start with '---')")
    raw = match.group(1)
    try:
        meta = yaml.safe_load(raw) or {}
    except yaml.YAMLError as exc:
        line = _yaml_error_line(exc, raw)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ArticleError(path, line, f"invalid YAML front matter: {problem}") from None
    if not isinstance(meta, dict):
        raise ArticleError(path, 2, "front matter must be a mapping of 'key: value' lines")

    def line(key: str) -> int:
        return _line_of_key(raw, key)

    title = str(meta.get("title") or "").strip()
    if not title:
        raise ArticleError(path, line("title"), "missing 'title'")
    language = str(meta.get("language") or default_language or "").strip()
    if language not in LANGUAGES:
        raise ArticleError(path, line("language"),
                           f"unknown language {language!r}: expected one of {', '.join(LANGUAGES)}")
    slug = str(meta.get("slug") or Path(path).stem).strip()
    if not SLUG_RE.match(slug):
        raise ArticleError(path, line("slug"), f"invalid slug {slug!r}: use a-z, 0-9 and '-'")
    status = str(meta.get("status") or "published")
    if status not in STATUSES:
        raise ArticleError(path, line("status"), f"unknown status {status!r}: expected {' or '.join(STATUSES)}")
    visibility = str(meta.get("visibility") or "public")
    if visibility not in VISIBILITIES:
        raise ArticleError(path, line("visibility"),
                           f"unknown visibility {visibility!r}: expected {' or '.join(VISIBILITIES)}")
    updated = meta.get("updated") or ""
    if isinstance(updated, (dt.date, dt.datetime)):
        updated = updated.isoformat()

    body = text[match.end():]
    rendered = render_markdown(body)
    return Article(
        slug=slug, language=language, title=title, body=body,
        category=str(meta.get("category") or "general").strip(),
        tags=_as_list(meta.get("tags"), path, line("tags"), "tags"),
        summary=str(meta.get("summary") or "").strip(),
        translation_key=str(meta.get("translation_key") or slug).strip(),
        status=status, visibility=visibility, updated=str(updated),
        urls=_as_list(meta.get("urls"), path, line("urls"), "urls"),
        path=path, html=rendered.html, toc=rendered.toc, sections=rendered.sections,
    )


def iter_article_files(root: Path):
    """Every ``*.md`` file under ``root``, in a stable order (README files excluded)."""
    for path in sorted(Path(root).rglob("*.md")):
        if path.name.lower() != "readme.md":
            yield path


def load_articles(root: str | Path) -> tuple[list[Article], list[ArticleError]]:
    """Parse every article under ``root``; broken files are reported, the rest are returned.

    A file in a top-level language folder (``articles/ru/...``) defaults to that language.
    Duplicate (language, slug) pairs are errors: the file named after the slug keeps it
    (``reset-password.md``, not a copy that forgot to change the slug), else the first file.
    """
    root = Path(root)
    parsed: list[tuple[Article, str]] = []
    errors: list[ArticleError] = []
    for path in iter_article_files(root):
        rel = path.relative_to(root).as_posix()
        folder = rel.split("/", 1)[0]
        try:
            text = path.read_text(encoding="utf-8-sig")   # a BOM from a Windows editor is fine
            article = parse_article(text, rel, default_language=folder if folder in LANGUAGES else None)
        except ArticleError as exc:
            errors.append(exc)
            continue
        except UnicodeDecodeError:
            errors.append(ArticleError(rel, 1, "file is not valid UTF-8"))
            continue
        parsed.append((article, text))
    owner: dict[str, str] = {}
    for article, _ in parsed:
        if article.id not in owner or Path(article.path).stem == article.slug != Path(owner[article.id]).stem:
            owner[article.id] = article.path
    articles: list[Article] = []
    for article, text in parsed:
        if owner[article.id] != article.path:
            errors.append(ArticleError(
                article.path, _line_of_key(FRONT_MATTER_RE.match(text).group(1), "slug"),
                f"duplicate slug {article.slug!r} in language {article.language!r} "
                f"(already used by {owner[article.id]})"))
            continue
        articles.append(article)
    errors.sort(key=lambda e: e.path)
    return articles, errors
