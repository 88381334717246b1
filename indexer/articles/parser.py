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
import difflib
import html as html_lib
import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from indexer.articles.article import STATUSES, VISIBILITIES, Article, ArticleError, ArticleWarning
from indexer.articles.categories import first_category
from indexer.articles.links import rewrite_urls
from indexer.languages import LANGUAGES
from indexer.render import Rendered, Section, render_markdown

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)", re.S | re.M)
# Bump when parsing or rendering changes its output: articles cached by an older version (see
# ``indexer.articles.scan``) are then parsed again instead of being reused.
PARSER_VERSION = 5
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


# The front matter keys an article file may have (anything else is reported as unknown).
KNOWN_KEYS = ("title", "slug", "language", "category", "tags", "summary", "translation_key",
              "status", "visibility", "updated", "urls")
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
OPENING_RE = re.compile(r"\A---[ \t]*\r?\n")


def _missing_front_matter(text: str, path: str) -> ArticleError:
    if OPENING_RE.match(text):
        return ArticleError(path, 1, "front matter not closed: add a '---' line after its last "
                                     "'key: value' line")
    return ArticleError(path, 1, "missing YAML front matter (the file must start with '---')")


def _bad_value(raw: str, path: str, exc: Exception) -> ArticleError:
    """The error for a value YAML reads but cannot build (``updated: 2026-13-45``): the
    front matter is composed without building it, then its values are built one by one, the
    innermost first, to find the one to fix."""
    loader = yaml.SafeLoader(raw)
    try:
        found = _unbuildable(loader, loader.get_single_node())
    except (yaml.YAMLError, RecursionError):
        found = None
    finally:
        loader.dispose()
    if found is None:
        return ArticleError(path, 2, f"invalid YAML front matter: {exc}")
    node, problem = found
    kind = "date" if node.tag == TIMESTAMP_TAG else "value"
    value = node.value if isinstance(node.value, str) else ""
    return ArticleError(path, node.start_mark.line + 2, f"invalid {kind} {value!r}: {problem}")


def _unbuildable(loader: yaml.SafeLoader, node: yaml.Node | None) -> tuple[yaml.Node, Exception] | None:
    if node is None:
        return None
    if isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    else:
        children = node.value if isinstance(node, yaml.SequenceNode) else []
    for child in children:
        found = _unbuildable(loader, child)
        if found is not None:
            return found
    try:
        loader.construct_object(node, deep=True)
    except (ValueError, TypeError, OverflowError) as problem:
        return node, problem
    return None


def _load_front_matter(raw: str, path: str) -> dict:
    """The front matter as a mapping; ``ArticleError`` with the line for anything else."""
    _refuse_aliases(raw, path)
    try:
        try:
            meta = yaml.load(raw, Loader=FAST_YAML_LOADER)
        except yaml.YAMLError:
            # the pure-Python parser's error positions are the ones the messages are tuned to
            meta = yaml.load(raw, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        line = _yaml_error_line(exc, raw)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ArticleError(path, line, f"invalid YAML front matter: {problem}") from None
    except (ValueError, TypeError, OverflowError) as exc:      # e.g. a date that does not exist
        raise _bad_value(raw, path, exc) from None
    except RecursionError:                  # the pure-Python parser on thousands of nested [
        raise ArticleError(path, 2, "invalid YAML front matter: nested too deeply") from None
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise ArticleError(path, 2, "front matter must be a mapping of 'key: value' lines")
    return meta


class _Checker:
    """Reads the front matter's values, collecting every error and warning with its line."""

    def __init__(self, raw: str, meta: dict, path: str):
        self.raw, self.meta, self.path = raw, meta, path
        self.errors: list[ArticleError] = []
        self.warnings: list[ArticleWarning] = []
        self.refused: set[str] = set()      # keys with an error

    def line(self, key: str) -> int:
        return line_of_key(self.raw, key)

    def error(self, key: str, message: str, value: str = "") -> None:
        """An error of the field ``key`` (``value``: what it holds, for the editor's message)."""
        self.errors.append(ArticleError(self.path, self.line(key), message, key, value))
        self.refused.add(key)

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(ArticleWarning(self.path, self.line(key), message))

    def text(self, key: str) -> str:
        """A text value: a string, a number or a date as written; "" when absent."""
        value = self.meta.get(key)
        if value is None:
            return ""
        if isinstance(value, bool):
            self.error(key, f"'{key}' is read as {str(value).lower()}: quote it to mean text")
            return ""
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        if isinstance(value, (str, int, float)):
            return str(value).strip()
        self.error(key, f"'{key}' must be text, not a {'list' if isinstance(value, list) else 'mapping'}")
        return ""

    def strings(self, key: str) -> list[str]:
        """A list of strings (numbers are taken as written)."""
        value = self.meta.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            self.error(key, f"'{key}' must be a list of strings: write {key}: [{value}]")
            return []
        if (isinstance(value, list)
                and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value)):
            return [str(v) for v in value]
        self.error(key, f"'{key}' must be a list of strings")
        return []

    def date(self, key: str) -> str:
        """An ISO date (``2026-01-31``, or a date and time)."""
        value = self.meta.get(key)
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        text = self.text(key)
        if text:
            try:
                dt.datetime.fromisoformat(text)
            except ValueError:
                self.error(key, f"invalid date {text!r}: write it as YYYY-MM-DD")
                return ""
        return text

    def unknown_keys(self) -> None:
        for key in self.meta:
            if str(key) not in KNOWN_KEYS:
                close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.warn(str(key), f"unknown key {str(key)!r}{hint}: it is ignored")


def parse_article(text: str, path: str = "<string>", default_language: str | None = None,
                  render: bool = True, categories: Mapping[str, dict] | None = None) -> Article:
    """Parse one article file's text. Raises ``ArticleError`` naming the file and line (its
    ``more``: the file's other errors); what does not stop the article is in its ``warnings``.

    ``default_language``: the language folder the file is in (its front matter may not name
    another). ``categories``: those of ``categories.yml`` (the category must be one of them;
    empty or None: any). ``render=False`` validates the front matter and keeps the body
    unrendered (no ``html``, ``toc`` or ``sections``): the caller renders it later with
    ``render_article``, e.g. in another process (a full build's workers, ``indexer.segments``)."""
    match = FRONT_MATTER_RE.match(text)
    if not match:
        raise _missing_front_matter(text, path)
    raw = match.group(1)
    check = _Checker(raw, _load_front_matter(raw, path), path)

    title = check.text("title")
    if not title and "title" not in check.refused:
        check.error("title", "missing 'title'")
    language = check.text("language") or default_language or ""
    if language not in LANGUAGES:
        check.error("language", f"unknown language {language!r}: expected one of {', '.join(LANGUAGES)}",
                    language)
    elif default_language and language != default_language:
        check.error("language", f"language {language!r} in the folder {default_language}/: "
                                f"move the file to {language}/ or fix the language", language)
    slug = check.text("slug") or Path(path).stem
    if not SLUG_RE.match(slug):
        check.error("slug", f"invalid slug {slug!r}: use a-z, 0-9 and '-'", slug)
    status = check.text("status") or "published"
    if status not in STATUSES:
        check.error("status", f"unknown status {status!r}: expected {' or '.join(STATUSES)}", status)
    visibility = check.text("visibility") or "public"
    if visibility not in VISIBILITIES:
        check.error("visibility", f"unknown visibility {visibility!r}: expected {' or '.join(VISIBILITIES)}",
                    visibility)
    category = _category(check, categories or {})
    check.unknown_keys()
    article = Article(
        slug=slug, language=language, title=title, body=text[match.end():],
        category=category, tags=check.strings("tags"), summary=check.text("summary"),
        translation_key=check.text("translation_key") or slug, status=status,
        visibility=visibility, updated=check.date("updated"), urls=check.strings("urls"),
        path=path)
    if check.errors:
        first, *more = sorted(check.errors, key=lambda e: e.line)
        first.more, first.warnings = more, sorted(check.warnings, key=lambda w: w.line)
        raise first
    article.warnings = sorted(check.warnings, key=lambda w: w.line)
    article.body_line = text.count("\n", 0, match.end()) + 1
    return render_article(article) if render else article


def _category(check: _Checker, categories: Mapping[str, dict]) -> str:
    """The category, one of ``categories`` when there are any; an article without one is filed
    under the first of them (said as a warning), or ``general`` when none are configured."""
    category = check.text("category")
    if not categories:
        return category or "general"
    if not category:
        category = first_category(dict(categories))
        check.warn("category", f"no 'category': filed under {category!r}")
    elif category not in categories:
        check.error("category", f"unknown category {category!r}: one of "
                                f"{', '.join(categories)}", category)
    return category


def render_article(article: Article) -> Article:
    """Fill in the rendered parts of a parsed article (sanitized HTML with its relative links
    and images made URLs (``links.resolve``), toc, sections)."""
    try:
        rendered = render_markdown(article.body)
    except RecursionError:      # thousands of nested lists or quotes: the text, not a crash
        article.warnings.append(ArticleWarning(article.path, article.body_line, "the Markdown is "
                                               "nested too deeply to render: shown as plain text"))
        rendered = Rendered(html=f"<pre>{html_lib.escape(article.body)}</pre>",
                            sections=[Section(anchor="", heading="", level=0, text=article.body)])
    article.html, article.toc, article.sections = (rewrite_urls(rendered.html, article),
                                                   rendered.toc, rendered.sections)
    return article
