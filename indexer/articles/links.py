"""Links and images in article files, written as docs-as-code authors write them.

- A relative link to another file, ``[limits](api-rate-limits.md#per-key)`` or
  ``../ru/reset-password.md`` (GitHub style), becomes the article's URL
  (``/a/en/api-rate-limits#per-key``): the file's folder is its language, its name its slug.
- Another relative link (``other-article#heading``) is taken relative to the article's URL, as
  a browser would on the article page (the widget shows articles on other sites' pages, so
  every URL is made absolute).
- A relative image, ``![](img/screen.png)`` beside the article or ``../media/logo.png``, is served
  from the articles folder at ``/files/<path>`` (``kb_server.views.public``: image types only,
  nothing outside the folder, at most ``UPLOAD_MAX_BYTES``).

``check_links`` is ``kb check``'s look at every link and image: missing articles, headings and
image files are warnings (the article is still published).
"""
from __future__ import annotations

import html as html_lib
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

from indexer.articles.article import Article, ArticleWarning

FILES_URL = "/files/"
MEDIA_URL = "/media/"          # the editor's uploads, else the articles folder's media/
UPLOAD_NAME_RE = re.compile(r"^[0-9a-f]{32}\.\w+$")   # how the editor names an upload
# what the articles folder may serve, by file name suffix (the bytes are checked too)
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".webp": "image/webp"}
ARTICLE_URL_RE = re.compile(r"^/a/([a-z]{2})/([^/#?]+)/?$")
# href/src attributes as nh3 writes them (always double-quoted, entities escaped)
HTML_URL_RE = re.compile(r'(<(a|img)\b[^>]*?\s(?:href|src)=")([^"]*)(")')
# Markdown links and images: inline ``[text](target "title")`` and reference ``[id]: target``
INLINE_RE = re.compile(r"(!?)\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
REFERENCE_RE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
FENCE_RE = re.compile(r"^ {0,3}(```|~~~)")
INLINE_CODE_RE = re.compile(r"`+[^`]*`+")


def _is_relative(target: str) -> bool:
    parts = urlsplit(target)
    return not (parts.scheme or parts.netloc or target.startswith(("/", "#")))


def _file_of(target: str, article_path: str) -> str:
    """The path, in the articles folder, of a relative ``target`` written in ``article_path``
    (``..`` resolved); "" when it leaves the folder."""
    path = posixpath.normpath(posixpath.join(posixpath.dirname(article_path),
                                             unquote(urlsplit(target).path)))
    return "" if path == ".." or path.startswith(("../", "/")) else path


def resolve(target: str, article: Article) -> str:
    """The URL that ``target``, written in ``article``'s file, points at (unchanged unless
    relative)."""
    if not _is_relative(target):
        return target
    parts = urlsplit(target)
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    suffix = posixpath.splitext(parts.path)[1].lower()
    if suffix == ".md" or suffix in IMAGE_TYPES:
        path = _file_of(target, article.path)
        if not path:
            return target
        if suffix == ".md":
            folder, _, name = path.rpartition("/")
            language = folder.rsplit("/", 1)[-1] or article.language
            return f"/a/{language}/{posixpath.splitext(name)[0]}{fragment}"
        return FILES_URL + quote(path)
    return urljoin(f"/a/{article.language}/{article.slug}", target)


def rewrite_urls(html: str, article: Article) -> str:
    """The rendered (sanitized) HTML with every link and image URL ``resolve``d."""
    def one(match: re.Match) -> str:
        url = html_lib.escape(resolve(html_lib.unescape(match.group(3)), article))
        return f"{match.group(1)}{url}{match.group(4)}"
    return HTML_URL_RE.sub(one, html)


def source_links(body: str) -> Iterable[tuple[int, str, bool]]:
    """``(line in the body, target, is an image)`` of every link in Markdown ``body`` (not in
    code)."""
    fenced = False
    for number, line in enumerate(body.splitlines(), start=1):
        if FENCE_RE.match(line):
            fenced = not fenced
            continue
        if fenced or line.startswith(("    ", "\t")):
            continue
        line = INLINE_CODE_RE.sub("", line)
        for match in INLINE_RE.finditer(line):
            yield number, match.group(2), bool(match.group(1))
        reference = REFERENCE_RE.match(line)
        if reference:
            yield number, reference.group(1), False


def _anchors(article: Article) -> set[str]:
    return {html_lib.unescape(value) for value in re.findall(r'\sid="([^"]*)"', article.html)}


def check_links(articles: list[Article], root: str | Path, max_image_bytes: int | None = None,
                folder: str | Path | None = None) -> list[ArticleWarning]:
    """Warnings for links to articles or headings that do not exist and images that are not in
    the articles ``folder`` (default ``root``; the articles' paths are relative to ``root``) or
    too large to be served. With a ``folder`` (one file checked) only its own headings and
    images are checked: the other articles are not known."""
    by_id = {article.id: article for article in articles} if folder is None else None
    images = _Images(Path(root), Path(root if folder is None else folder), max_image_bytes)
    warnings = []
    for article in articles:
        for number, target, image in source_links(article.body):
            problem = _link_problem(target, image, article, by_id, images)
            if problem:
                warnings.append(ArticleWarning(article.path, article.body_line + number - 1, problem))
    return warnings


def _link_problem(target: str, image: bool, article: Article, by_id: dict[str, Article] | None,
                  images: "_Images") -> str:
    if image or posixpath.splitext(urlsplit(target).path)[1].lower() in IMAGE_TYPES:
        return images.problem(target, article)
    url = urlsplit(resolve(target, article))
    if url.scheme or url.netloc:
        return ""
    if not url.path or url.path == f"/a/{article.language}/{article.slug}":
        other = article
    else:
        found = ARTICLE_URL_RE.match(url.path)
        if not found or by_id is None:
            return ""
        other = by_id.get(f"{found.group(1)}/{unquote(found.group(2))}")
        if other is None:
            shown = "" if target.startswith(url.path) else f" ({url.path})"
            return f"link to a missing article: {target}{shown}"
    if url.fragment and unquote(url.fragment) not in _anchors(other):
        return f"link to a missing heading: {target} (no #{unquote(url.fragment)} in {other.id})"
    return ""


@dataclass
class _Images:
    root: Path                   # what the articles' paths are relative to
    folder: Path                 # the articles folder
    max_bytes: int | None

    def problem(self, target: str, article: Article) -> str:
        """What is wrong with an image: a relative one (beside the article) or ``/media/NAME``
        not uploaded in the editor, i.e. from the folder's ``media/``."""
        path = urlsplit(target).path
        if target.startswith(MEDIA_URL) and not UPLOAD_NAME_RE.match(path[len(MEDIA_URL):]):
            file = self.folder / "media" / unquote(path[len(MEDIA_URL):])
        elif _is_relative(target):
            file = (self.root / article.path).parent / unquote(path)
        else:
            return ""
        if posixpath.splitext(path)[1].lower() not in IMAGE_TYPES:
            return f"image {target}: only {', '.join(IMAGE_TYPES)} files are served"
        if not file.resolve().is_relative_to(self.folder.resolve()):
            return f"image {target} is outside the articles folder"
        if not file.is_file():
            return f"missing image: {target} (no file {file})"
        if self.max_bytes is not None and file.stat().st_size > self.max_bytes:
            return f"image {target} is larger than {self.max_bytes} bytes: it is not served"
        return ""
