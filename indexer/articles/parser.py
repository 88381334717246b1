"""Parsing one article file: YAML front matter + Markdown body -> a validated ``Article``.

An article file looks like::

    ---
    title: Reset your password
    slug: reset-password
    language: en
    category: sign-in
    ---
    Body in Markdown...

A problem is an ``ArticleError`` naming the file and the line to fix.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml

from indexer.articles.article import STATUSES, VISIBILITIES, Article, ArticleError
from indexer.languages import LANGUAGES
from indexer.render import render_markdown

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.S | re.M)
# Bump when parsing or rendering changes its output: articles cached by an older version (see
# ``indexer.articles.scan``) are then parsed again instead of being reused.
PARSER_VERSION = 3
# libyaml when PyYAML was built with it (~20x faster than the pure-Python parser)
FAST_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def line_of_key(front_matter: str, key: str) -> int:
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


def _refuse_aliases(front_matter: str, path: str) -> None:
    """Raise on a YAML alias (``*name``): a few nested aliases expand to gigabytes (the
    "billion laughs"), and front matter never needs them. Only text that could hold one is
    scanned (the pure-Python scanner is slow)."""
    if "*" not in front_matter:
        return
    try:
        for token in yaml.scan(front_matter, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AliasToken):
                raise ArticleError(path, token.start_mark.line + 2,
                                   "YAML aliases (*name) are not allowed in front matter")
    except yaml.YAMLError:
        return   # not even valid YAML: the parser reports it with its line


def _as_list(value, path: str, line: int, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    raise ArticleError(path, line, f"'{key}' must be a list of strings")


def parse_article(text: str, path: str = "<string>", default_language: str | None = None,
                  render: bool = True) -> Article:
    """Parse one article file's text. Raises ``ArticleError`` naming the file and line.

    ``render=False`` validates the front matter and keeps the body unrendered (no ``html``,
    ``toc`` or ``sections``): the caller renders it later with ``render_article``, e.g. in
    another process (a full build's workers, ``indexer.segments``)."""
    match = FRONT_MATTER_RE.match(text)
    if not match:
        raise ArticleError(path, 1, "missing YAML front matter (the file must start with '---')")
    raw = match.group(1)
    _refuse_aliases(raw, path)
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
        return line_of_key(raw, key)

    title = str(meta.get("title") or "").strip()
    if not title:
        raise ArticleError(path, line("title"), "missing 'title'", "title")
    language = str(meta.get("language") or default_language or "").strip()
    if language not in LANGUAGES:
        raise ArticleError(path, line("language"),
                           f"unknown language {language!r}: expected one of {', '.join(LANGUAGES)}",
                           "language", language)
    slug = str(meta.get("slug") or Path(path).stem).strip()
    if not SLUG_RE.match(slug):
        raise ArticleError(path, line("slug"), f"invalid slug {slug!r}: use a-z, 0-9 and '-'", "slug", slug)
    status = str(meta.get("status") or "published")
    if status not in STATUSES:
        raise ArticleError(path, line("status"), f"unknown status {status!r}: expected {' or '.join(STATUSES)}",
                           "status", status)
    visibility = str(meta.get("visibility") or "public")
    if visibility not in VISIBILITIES:
        raise ArticleError(path, line("visibility"),
                           f"unknown visibility {visibility!r}: expected {' or '.join(VISIBILITIES)}",
                           "visibility", visibility)
    updated = meta.get("updated") or ""
    if isinstance(updated, (dt.date, dt.datetime)):
        updated = updated.isoformat()

    article = Article(
        slug=slug, language=language, title=title, body=text[match.end():],
        category=str(meta.get("category") or "general").strip(),
        tags=_as_list(meta.get("tags"), path, line("tags"), "tags"),
        summary=str(meta.get("summary") or "").strip(),
        translation_key=str(meta.get("translation_key") or slug).strip(),
        status=status, visibility=visibility, updated=str(updated),
        urls=_as_list(meta.get("urls"), path, line("urls"), "urls"),
        path=path,
    )
    return render_article(article) if render else article


def render_article(article: Article) -> Article:
    """Fill in the rendered parts of a parsed article (sanitized HTML, toc, sections)."""
    rendered = render_markdown(article.body)
    article.html, article.toc, article.sections = rendered.html, rendered.toc, rendered.sections
    return article
