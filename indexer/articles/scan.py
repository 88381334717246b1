"""Scanning a knowledge-base folder: every article file -> articles and errors.

``load_articles`` never stops at a broken file: it returns the good articles and a list of
``ArticleError`` (file, line, message) for the others, so one typo cannot take the knowledge
base down. ``scan_articles`` does the same and can reuse the articles of files whose bytes did
not change since the last build (parsing and rendering is most of an index build's time).
"""
from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from indexer.articles.article import Article, ArticleError, ArticleWarning
from indexer.articles.categories import load_categories
from indexer.articles.parser import FRONT_MATTER_RE, line_of_key, parse_article
from indexer.languages import LANGUAGES


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


def _decode(data: bytes) -> str:
    """File bytes -> text as ``read_text`` gives it: a BOM from a Windows editor is fine, line
    ends become ``\\n``."""
    return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")


def file_hash(data: bytes) -> str:
    """Hash of an article file's raw bytes (what ``scan_articles`` compares between builds)."""
    return hashlib.sha1(data).hexdigest()


def parse_file(relative: str, data: bytes, categories: Mapping[str, dict] | None = None,
               render: bool = True, folder: str | None = None) -> Article:
    """An article file's bytes parsed as every reader of the articles folder parses them (a file
    in a language folder, by default the top-level folder of ``relative``, is in that
    language); ``ArticleError`` otherwise, every error of the file in its ``more``."""
    folder = relative.split("/", 1)[0] if folder is None else folder
    try:
        text = _decode(data)
    except UnicodeDecodeError as exc:
        raise ArticleError(relative, data.count(b"\n", 0, exc.start) + 1,
                           "file is not valid UTF-8") from None
    return parse_article(text, relative, default_language=folder if folder in LANGUAGES else None,
                         render=render, categories=categories)


def slug_line(data: bytes) -> int:
    """The line of ``slug:`` in a parsed article file's front matter."""
    return line_of_key(FRONT_MATTER_RE.match(_decode(data)).group(1), "slug")


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
    errors: list[ArticleError] = field(default_factory=list)      # every error of every file
    warnings: list[ArticleWarning] = field(default_factory=list)  # of the files parsed here
    files: dict[str, tuple[str, str]] = field(default_factory=dict)   # path -> (file hash, article id)
    parsed: list[str] = field(default_factory=list)                    # paths parsed (not reused)
    stats: dict[str, list] = field(default_factory=dict)               # path -> [size, mtime_ns, file hash]


def scan_articles(root: str | Path, reuse: Mapping[str, tuple[str, Article]] | None = None,
                  stats: Mapping[str, list] | None = None, render: bool = True) -> Scan:
    """Like ``load_articles``, reusing ``reuse[path] = (file hash, article)`` for every file whose
    bytes still have that hash (a previous build's articles). Files that had errors are not
    in ``reuse``, so they are parsed and reported again on every run; duplicate slugs are checked
    over all articles, reused or not.

    ``stats`` (``Scan.stats`` of the previous scan) spares reading a file whose size and
    modification time are unchanged: its recorded hash is taken, as git does for its index.
    ``render=False`` leaves the articles parsed here unrendered (``parser.render_article``).
    """
    root = Path(root)
    reuse, stats = reuse or {}, stats or {}
    scan = Scan()
    settled_before = time.time_ns() - RACY_WINDOW_NS
    categories = load_categories(root)
    parsed: list[tuple[Article, str]] = []   # (article, file hash)
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
            parsed.append((known[1], digest))
            continue
        scan.parsed.append(rel)
        try:
            article = parse_file(rel, read_file(path) if data is None else data, categories, render)
        except ArticleError as exc:
            scan.errors.extend(exc.every)
            scan.warnings.extend(exc.warnings)
            continue
        scan.warnings.extend(article.warnings)
        parsed.append((article, digest))
    owner: dict[str, str] = {}
    for article, _ in parsed:
        if article.id not in owner or Path(article.path).stem == article.slug != Path(owner[article.id]).stem:
            owner[article.id] = article.path
    for article, digest in parsed:
        if owner[article.id] != article.path:
            scan.errors.append(ArticleError(
                article.path, slug_line((root / article.path).read_bytes()),
                f"duplicate slug {article.slug!r} in language {article.language!r} "
                f"(already used by {owner[article.id]})"))
            continue
        scan.articles.append(article)
        scan.files[article.path] = (digest, article.id)
    scan.errors.sort(key=lambda e: (e.path, e.line))
    scan.warnings.sort(key=lambda w: (w.path, w.line))
    return scan


def load_article_file(path: str | Path) -> Scan:
    """One article file parsed as ``load_articles`` parses it (a file in a language folder
    is in that language, its category one of the folder's ``categories.yml``), problems named
    by ``path`` as given."""
    path = Path(path)
    root = path.parent.parent if path.parent.name in LANGUAGES else path.parent
    try:
        article = parse_file(str(path), read_file(str(path)), load_categories(root),
                             folder=path.parent.name)
    except ArticleError as exc:
        return Scan(errors=exc.every, warnings=exc.warnings)
    return Scan(articles=[article], warnings=article.warnings)


def load_articles(root: str | Path) -> tuple[list[Article], list[ArticleError]]:
    """Parse every article under ``root``; broken files are reported, the rest are returned.

    A file in a top-level language folder (``articles/ru/...``) defaults to that language.
    Duplicate (language, slug) pairs are errors: the file named after the slug keeps it
    (``reset-password.md``, not a copy that forgot to change the slug), else the first file.
    """
    scan = scan_articles(root)
    return scan.articles, scan.errors
