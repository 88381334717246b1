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
base down. ``scan_articles`` does the same and can reuse the articles of files whose bytes did
not change since the last build (parsing and rendering is most of an index build's time).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from indexer.render import Section, render_markdown

LANGUAGES = ("en", "ru", "uk")
STATUSES = ("published", "draft")
VISIBILITIES = ("public", "internal")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.S | re.M)
# Bump when parsing or rendering changes its output: articles cached by an older version (see
# ``scan_articles``) are then parsed again instead of being reused.
PARSER_VERSION = 2
# libyaml when PyYAML was built with it (~20x faster than the pure-Python parser)
FAST_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


RENDERED_FIELDS = ("html", "toc", "sections")   # the bulk of an article; decoded lazily from a catalog


def _rendered_field(name: str) -> property:
    def get(self: "StoredArticle"):
        state = self.__dict__
        if name not in state:
            self._decode_rendered()
        try:
            return state[name]
        except KeyError:
            raise AttributeError(name) from None

    def set(self: "StoredArticle", value) -> None:
        self.__dict__[name] = value   # (``__setattr__`` has decoded the others first)
    return property(get, set, doc=f"``{name}``, decoded from the catalog line on first use")


class StoredArticle(Article):
    """An article read from a catalog: the metadata is decoded at once, the rendered parts
    (``{html, toc, sections}``, one line of the catalog) on first use -- most articles of a
    catalog are never shown between two reloads, and a build rewrites unchanged ones without
    touching them. Until then ``catalog_row`` holds that line, for ``Catalog.save`` to copy;
    setting any field lets it go (then ``save`` encodes the article again)."""

    html = _rendered_field("html")
    toc = _rendered_field("toc")
    sections = _rendered_field("sections")

    @classmethod
    def from_row(cls, meta: dict, row) -> "StoredArticle":
        """``meta``: the catalog metadata; ``row``: the bytes (or memoryview) of the rendered parts."""
        known = {k: meta[k] for k in (
            "slug", "language", "title", "category", "tags", "summary", "translation_key",
            "status", "visibility", "updated", "urls", "path") if k in meta}
        state = Article(**known).__dict__   # defaults for missing keys
        for name in RENDERED_FIELDS:
            state.pop(name, None)
        article = cls.__new__(cls)
        article.__dict__.update(state, stored_hash=meta.get("content_hash", ""), _row=row,
                                _meta=meta)
        return article

    def __setattr__(self, name: str, value) -> None:
        if "_row" in self.__dict__:
            self._decode_rendered()   # the line no longer describes the article
        self.__dict__.pop("_meta", None)   # ... nor the metadata
        super().__setattr__(name, value)

    @property
    def catalog_meta(self) -> dict | None:
        """The catalog metadata this article was read with, while no field has been set."""
        return self.__dict__.get("_meta")

    @property
    def catalog_row(self):
        """The catalog line of rendered parts this article was read from, while unread."""
        return self.__dict__.get("_row")

    def _decode_rendered(self) -> None:
        state = self.__dict__
        row = state.get("_row")
        if row is None:   # another thread has just decoded them
            return
        rendered = json.loads(bytes(row))
        decoded = {"html": rendered.get("html", ""), "toc": rendered.get("toc", []),
                   "sections": [Section(**s) for s in rendered.get("sections", [])]}
        # one update, then let the line go: a reader in another thread sees all three or none
        state.update({k: v for k, v in decoded.items() if k not in state})
        state.pop("_row", None)


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
        try:
            meta = yaml.load(raw, Loader=FAST_YAML_LOADER) or {}
        except yaml.YAMLError:
            # the pure-Python parser's error positions are the ones the messages are tuned to
            meta = yaml.load(raw, Loader=yaml.SafeLoader) or {}
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


def article_files(root: str | Path) -> list[str]:
    """Every ``*.md`` file under ``root`` as a POSIX path relative to it, in a stable order
    (folder by folder, like sorted ``Path`` objects; README files excluded)."""
    found = []
    for folder, _, names in os.walk(root):   # (not rglob: a third of a 10k no-op build)
        prefix = os.path.relpath(folder, root).replace(os.sep, "/")
        for name in names:
            if name.endswith(".md") and name.lower() != "readme.md":
                found.append(name if prefix == "." else f"{prefix}/{name}")
    return sorted(found, key=lambda rel: rel.split("/"))


def iter_article_files(root: Path):
    """Every ``*.md`` file under ``root``, in a stable order (README files excluded)."""
    for rel in article_files(root):
        yield Path(root) / rel


def _decode(data: bytes) -> str:
    """File bytes -> text as ``read_text`` gives it: a BOM from a Windows editor is fine, line
    ends become ``\\n``."""
    return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")


def file_hash(data: bytes) -> str:
    """Hash of an article file's raw bytes (what ``scan_articles`` compares between builds)."""
    return hashlib.sha1(data).hexdigest()


def read_file(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


# A file modified this close to a scan could change again without its size or modification
# time changing (coarse file-system clocks): its stat is not trusted next time ("racily clean").
RACY_WINDOW_NS = 2_000_000_000


@dataclass
class Scan:
    """What ``scan_articles`` found: good articles, errors, and the raw hash of each good file."""

    articles: list[Article] = field(default_factory=list)
    errors: list[ArticleError] = field(default_factory=list)
    files: dict[str, tuple[str, str]] = field(default_factory=dict)   # path -> (file hash, article id)
    parsed: list[str] = field(default_factory=list)                    # paths parsed (not reused)
    stats: dict[str, list] = field(default_factory=dict)               # path -> [size, mtime_ns, file hash]


def scan_articles(root: str | Path, reuse: Mapping[str, tuple[str, Article]] | None = None,
                  stats: Mapping[str, list] | None = None) -> Scan:
    """Like ``load_articles``, reusing ``reuse[path] = (file hash, article)`` for every file whose
    bytes still have that hash (a previous build's articles). Files that had errors are not
    in ``reuse``, so they are parsed and reported again on every run; duplicate slugs are checked
    over all articles, reused or not.

    ``stats`` (``Scan.stats`` of the previous scan) spares reading a file whose size and
    modification time are unchanged: its recorded hash is taken, as git does for its index.
    """
    root = Path(root)
    reuse, stats = reuse or {}, stats or {}
    scan = Scan()
    settled_before = time.time_ns() - RACY_WINDOW_NS
    parsed: list[tuple[Article, str, str | None]] = []   # (article, file hash, text if read)
    for rel in article_files(root):
        path = os.path.join(root, rel)
        status = os.stat(path)
        stamp = [status.st_size, status.st_mtime_ns]
        data = None
        cached = stats.get(rel)
        if cached is not None and list(cached[:2]) == stamp:
            digest = cached[2]
        else:
            data = read_file(path)
            digest = file_hash(data)
        if status.st_mtime_ns < settled_before:
            scan.stats[rel] = [*stamp, digest]
        known = reuse.get(rel)
        if known is not None and known[0] == digest and known[1].path == rel:
            parsed.append((known[1], digest, None))
            continue
        scan.parsed.append(rel)
        folder = rel.split("/", 1)[0]
        try:
            text = _decode(read_file(path) if data is None else data)
            article = parse_article(text, rel, default_language=folder if folder in LANGUAGES else None)
        except ArticleError as exc:
            scan.errors.append(exc)
            continue
        except UnicodeDecodeError:
            scan.errors.append(ArticleError(rel, 1, "file is not valid UTF-8"))
            continue
        parsed.append((article, digest, text))
    owner: dict[str, str] = {}
    for article, _, _ in parsed:
        if article.id not in owner or Path(article.path).stem == article.slug != Path(owner[article.id]).stem:
            owner[article.id] = article.path
    for article, digest, text in parsed:
        if owner[article.id] != article.path:
            if text is None:
                text = _decode((root / article.path).read_bytes())
            scan.errors.append(ArticleError(
                article.path, _line_of_key(FRONT_MATTER_RE.match(text).group(1), "slug"),
                f"duplicate slug {article.slug!r} in language {article.language!r} "
                f"(already used by {owner[article.id]})"))
            continue
        scan.articles.append(article)
        scan.files[article.path] = (digest, article.id)
    scan.errors.sort(key=lambda e: e.path)
    return scan


def load_articles(root: str | Path) -> tuple[list[Article], list[ArticleError]]:
    """Parse every article under ``root``; broken files are reported, the rest are returned.

    A file in a top-level language folder (``articles/ru/...``) defaults to that language.
    Duplicate (language, slug) pairs are errors: the file named after the slug keeps it
    (``reset-password.md``, not a copy that forgot to change the slug), else the first file.
    """
    scan = scan_articles(root)
    return scan.articles, scan.errors
