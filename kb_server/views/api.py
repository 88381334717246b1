"""JSON API under /api/v1: search, suggest, article, categories, page suggestions, notices,
health.

The help-center pages' JavaScript and the widget use these endpoints. Every parameter goes
through the ``kb_server.jsonapi`` helpers, so malformed input is a 4xx JSON error, never a 500.
``?site=KEY`` names a widget site; its category list restricts what the endpoints return.
"""
from __future__ import annotations

import weakref

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from indexer.languages import LANGUAGES
from indexer.search import MODES, SearchResults
from kb_server import follow, helpcenter, ratelimits, search
from kb_server.authoring import files
from kb_server.extensions import public_limit
from kb_server.jsonapi import APIError, article_payload, int_arg, lang_arg, list_arg, str_arg
from kb_server.models import Site
from kb_server.sites import allowed_categories, site_from_request
from kb_server.tickets import incidents

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_PAGE = 100
MAX_PER_PAGE = 50
MAX_SUGGESTIONS = 10
MAX_PAGE_SUGGESTIONS = 10
MAX_PREFIX_LENGTH = 200
MAX_PATH_LENGTH = 1000


def _scope() -> tuple[Site | None, tuple[str, ...]]:
    """The requesting site (None = help center) and the categories it may show."""
    site = site_from_request()
    return site, allowed_categories(site)


def _language(site: Site | None) -> str:
    """``?lang=``, else the site's default language, else English."""
    return lang_arg() or (site.default_language if site else None) or "en"


def _category_filter(allowed: tuple[str, ...]) -> tuple[str, ...]:
    """``?category=`` values (each must be a category the site shows); none = all allowed."""
    if "category" not in request.args:   # (known_categories() reads every article)
        return allowed
    requested = list_arg("category", allowed=allowed or helpcenter.known_categories())
    return tuple(requested) or allowed


def _mode() -> str | None:
    mode = str_arg("mode", max_length=16).lower()
    if mode and mode not in MODES:
        raise APIError(f"'mode' must be one of {', '.join(MODES)}")
    return mode or None


def _with_urls(hits: list[dict]) -> list[dict]:
    """Search hits (``Hit.to_dict()``) completed in place with the absolute URL of their section."""
    url = helpcenter.ArticleURLs(external=True)
    for hit in hits:
        hit["url"] = url(hit["language"], hit["slug"], hit["anchor"])
    return hits


@bp.get("/search")
@public_limit()
def search_articles():
    """Ranked articles, one per translation, with facets and paging."""
    _, allowed = _scope()
    query = str_arg("q", required=True)
    results = search.search(
        query, language=lang_arg(), categories=_category_filter(allowed),
        languages=tuple(list_arg("language", allowed=LANGUAGES)),
        page=int_arg("page", 1, maximum=MAX_PAGE),
        per_page=int_arg("per_page", 10, maximum=MAX_PER_PAGE), mode=_mode())
    return _search_response(results)


# The JSON bodies of the answers the search service remembers (``SEARCH_CACHE_SIZE``), by the
# base of their URLs: a repeated search is neither serialised nor linked again. Keyed by the
# answer object's id, each entry removed when its answer is dropped from the service's cache.
_BODIES: dict[int, dict[tuple[str, str], bytes]] = {}


def _search_response(results: SearchResults) -> Response:
    """``results`` as JSON, with the absolute URL of each hit; the same bytes as ``jsonify``."""
    urls = helpcenter.ArticleURLs(external=True)
    base = (urls.script_root, urls.root)
    remembered = search.service().cache_size > 0
    bodies = _BODIES.get(id(results)) if remembered else None
    body = bodies.get(base) if bodies else None
    if body is None:
        payload = results.to_dict()
        for hit in payload["hits"]:
            hit["url"] = urls(hit["language"], hit["slug"], hit["anchor"])
        response = jsonify(payload)
        if remembered:
            if bodies is None:
                bodies = _BODIES[id(results)] = {}
                weakref.finalize(results, _BODIES.pop, id(results), None)
            bodies[base] = response.get_data()
        return response
    return current_app.response_class(body, mimetype=current_app.json.mimetype)


@bp.get("/suggest")
@public_limit()
def suggest():
    """Search-as-you-type completions."""
    _, allowed = _scope()
    prefix = str_arg("q", required=True, max_length=MAX_PREFIX_LENGTH)
    limit = int_arg("limit", 8, maximum=MAX_SUGGESTIONS)
    hits = search.suggest(prefix, language=lang_arg(), limit=limit, categories=allowed or ())
    return jsonify({"query": prefix, "suggestions": _with_urls([hit.to_dict() for hit in hits])})


@bp.get("/articles/<lang>/<slug>")
@public_limit()
def article(lang: str, slug: str):
    """One public article with its translations and related articles."""
    _, allowed = _scope()
    found = helpcenter.public_article(lang, slug, allowed)
    if found is None:
        raise APIError("article not found", 404)
    payload = article_payload(found, helpcenter.catalog().translations(found.translation_key))
    payload["url"] = helpcenter.article_url(found.language, found.slug, external=True)
    payload["related"] = [helpcenter.article_card(a) for a in helpcenter.related(found, allowed)]
    return jsonify(payload)


@bp.get("/categories")
@public_limit()
def categories():
    """Categories with public articles, localized, with article counts."""
    site, allowed = _scope()
    language = _language(site)
    items = [{**c, "url": url_for("public.category", category=c["id"], _external=True)}
             for c in helpcenter.categories(language, allowed)]
    return jsonify({"language": language, "categories": items})


@bp.get("/pages/suggestions")
@public_limit()
def page_suggestions():
    """Articles whose front-matter ``urls`` match the product page the user is on."""
    site, allowed = _scope()
    path = str_arg("path", required=True, max_length=MAX_PATH_LENGTH).split("#")[0].split("?")[0]
    if not path.startswith("/"):
        raise APIError("'path' must be a URL path starting with '/'")
    limit = int_arg("limit", 5, maximum=MAX_PAGE_SUGGESTIONS)
    matches = helpcenter.catalog().for_url(path, _language(site), limit=MAX_PAGE_SUGGESTIONS * 5)
    articles = [a for a in matches if helpcenter.visible(a, allowed)][:limit]
    return jsonify({"path": path, "articles": [helpcenter.article_card(a) for a in articles]})


@bp.get("/notices")
@public_limit()
def notices():
    """Incident notices staff published (``tickets.incidents``), in the user's language."""
    language = _language(_scope()[0])
    return jsonify({"language": language, "notices": incidents.active_notices(language)})


@bp.get("/health")
@public_limit()
def health():
    """200 when keyword search can answer, 503 otherwise; ``ok`` is false too when something
    needs attention (``search.problem``: an unreadable index, a fallback generation served;
    a rate-limit storage that does not answer; a node that has not caught up with the shared
    knowledge base; a file sync that refused to archive most articles or skipped broken article
    files). ``following``: the shared generation seen and served (None: not following);
    ``articles_sync``: that refusal and those files (``files.sync_problem``)."""
    status, limits = search.health(), ratelimits.status()
    following = follow.status(current_app.config)
    sync = files.sync_problem()
    answers = status["keyword"] == "ok"
    ok = (answers and not status["problem"] and limits["ok"] and sync is None
          and (following is None or following["caught_up"]))
    return jsonify({"ok": ok, "search": status, "rate_limits": limits,
                    "following": following, "articles_sync": sync}), 200 if answers else 503
