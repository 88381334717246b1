"""What the help center shows, shared by the pages (``public``) and the JSON API (``api``).

Only published public articles are ever shown; a site may further restrict the categories
(``allowed`` below: an empty tuple means every category). Where an article exists in several
languages, one version is shown: the reader's language, else English, else any.
"""
from __future__ import annotations

import datetime as dt
import functools
from urllib.parse import quote

from flask import current_app, request, url_for
from sqlalchemy import func
from werkzeug.sansio.utils import get_current_url

from indexer.articles import Article
from indexer.languages import preferred
from indexer.catalog import Catalog
from kb_server import search
from kb_server.extensions import db
from kb_server.models import Event, utcnow

POPULAR_WINDOW = dt.timedelta(days=30)


def catalog() -> Catalog:
    return search.service().current_catalog()


def visible(article: Article | None, allowed: tuple[str, ...] = ()) -> bool:
    return article is not None and article.visible_in(allowed)


def known_categories() -> set[str]:
    """Every category named in categories.yml or used by an article."""
    cat = catalog()
    return set(cat.categories) | {a.category for a in cat.articles.values()}


def public_article(language: str, slug: str, allowed: tuple[str, ...] = ()) -> Article | None:
    article = catalog().get(slug, language)
    return article if visible(article, allowed) else None


def public_translations(article: Article) -> dict[str, Article]:
    """The other public language versions of ``article``, by language."""
    versions = catalog().public_versions(article.translation_key)
    versions.pop(article.language, None)
    return versions


def preferred_version(translation_key: str, language: str) -> Article | None:
    """The public version in ``language``, else English, else any public one."""
    return preferred(catalog().public_versions(translation_key), language)


def one_per_translation(articles: list[Article], language: str) -> list[Article]:
    """Collapse language versions to one preferred version each, sorted by title."""
    keys = dict.fromkeys(a.translation_key for a in articles)
    chosen = [preferred_version(key, language) for key in keys]
    return sorted((a for a in chosen if a is not None), key=lambda a: a.title.lower())


def categories(language: str, allowed: tuple[str, ...] = ()) -> list[dict]:
    """Categories with public articles: localized name and description, article count."""
    return [c for c in catalog().category_list(language) if not allowed or c["id"] in allowed]


def category_articles(category: str, language: str) -> list[Article]:
    return one_per_translation(catalog().public(category=category), language)


def related(article: Article, allowed: tuple[str, ...] = (), limit: int = 5) -> list[Article]:
    """Other public articles sharing tags (in any language version) or the category, the most
    shared tags first, each in the article's language where possible."""
    cat = catalog()
    tags = {tag.lower() for version in cat.translations(article.translation_key).values()
            for tag in version.tags}
    scores: dict[str, int] = {}
    for other in cat.articles.values():
        if other.translation_key == article.translation_key or not visible(other, allowed):
            continue
        shared_tags = len(tags & {tag.lower() for tag in other.tags})
        score = 2 * shared_tags + (other.category == article.category)
        if score:
            scores[other.translation_key] = max(scores.get(other.translation_key, 0), score)
    ranked = sorted(scores, key=lambda key: (-scores[key], key))
    versions = (preferred_version(key, article.language) for key in ranked)
    return [a for a in versions if visible(a, allowed)][:limit]


def popular(language: str, limit: int = 6) -> list[Article]:
    """The most viewed articles of the last 30 days (all language versions together); articles
    nobody opened yet fill the list up (by title), so a new help center still shows something."""
    cat = catalog()
    rows = db.session.execute(
        db.select(Event.article_id, func.count())
        .where(Event.kind == "view", Event.article_id != "",
               Event.created_at >= utcnow() - POPULAR_WINDOW)
        .group_by(Event.article_id).order_by(func.count().desc()).limit(200)
    ).all()
    counts: dict[str, int] = {}
    for article_id, count in rows:
        article = cat.articles.get(article_id)
        if article is not None:
            counts[article.translation_key] = counts.get(article.translation_key, 0) + count
    ranked = sorted(counts, key=lambda key: -counts[key])
    ranked += [a.translation_key for a in cat.public() if a.translation_key not in counts]
    versions = (preferred_version(key, language) for key in dict.fromkeys(ranked))
    return [a for a in versions if a is not None][:limit]


ARTICLE_PATHS = "article_paths"   # app.extensions key: (script root, language, slug) -> path
MAX_ARTICLE_PATHS = 100_000


class ArticleURLs:
    """``url_for("public.article", ...)`` for the articles of one request, at a fraction of its
    cost: each article's path is built by ``url_for`` once and remembered by the app; the host
    and the anchor are added here as ``url_for`` adds them."""

    def __init__(self, external: bool = False):
        self.paths = current_app.extensions.setdefault(ARTICLE_PATHS, {})
        self.script_root = request.script_root
        self.root = _host_url(request.scheme, request.host)[:-1] if external else ""

    def __call__(self, language: str, slug: str, anchor: str = "") -> str:
        key = (self.script_root, language, slug)
        path = self.paths.get(key)
        if path is None:
            if len(self.paths) >= MAX_ARTICLE_PATHS:   # slugs renamed over a long uptime
                self.paths.clear()
            path = self.paths[key] = url_for("public.article", lang=language, slug=slug)
        return f"{self.root}{path}#{_quote_anchor(anchor)}" if anchor else f"{self.root}{path}"


@functools.lru_cache(maxsize=256)
def _host_url(scheme: str, host: str) -> str:
    """``request.host_url`` (werkzeug recomputes it, IRI conversion included, on every call)."""
    return get_current_url(scheme, host)


def article_url(language: str, slug: str, anchor: str = "", external: bool = False) -> str:
    """The URL of an article (of a section with ``anchor``), as ``url_for`` gives it."""
    return ArticleURLs(external)(language, slug, anchor)


@functools.lru_cache(maxsize=65_536)
def _quote_anchor(anchor: str) -> str:
    return quote(anchor, safe="%!#$&'()*+,/:;=?@")   # as flask.App.url_for quotes _anchor


def article_card(article: Article) -> dict:
    """A short description of an article for lists (related, page suggestions)."""
    return {"id": article.id, "slug": article.slug, "language": article.language,
            "title": article.title, "summary": article.summary, "category": article.category,
            "url": article_url(article.language, article.slug, external=True)}
