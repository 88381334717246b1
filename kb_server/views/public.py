"""Public help center pages: home, category, article, search results, contact form.

Server-rendered Jinja pages; the small ``static/helpcenter.js`` adds analytics events, the
"Was this helpful?" feedback and the contact form, all through the JSON API. Page parameters
are parsed leniently (a bad value is ignored), unlike the API's, which answer 400.
"""
from __future__ import annotations

import math

from flask import (Blueprint, abort, current_app, make_response, render_template, request,
                   send_from_directory, url_for)

from indexer.analysis import clean_query, detect_language
from indexer.languages import LANGUAGES
from kb_server import helpcenter, i18n, search
from kb_server.extensions import public_limit
from kb_server.jsonapi import MAX_QUERY_LENGTH, error_response, wants_json
from kb_server.tickets import incidents
from kb_server.views import console

bp = Blueprint("public", __name__)

PER_PAGE = 10
MAX_PAGE = 100
FEW_RESULTS = 3  # show "Did you mean" when a query has fewer results than this


@bp.context_processor
def _template_context() -> dict:
    """The UI strings and language, and the incident notices staff published (on top of every
    help-center page while active)."""
    return {**i18n.template_context(), "incident_notices": incidents.active_notices(i18n.ui_language())}


@bp.after_request
def _remember_language(response):
    return i18n.remember_choice(response)


def _not_found():
    abort(make_response(render_template("404.html"), 404))


@bp.app_errorhandler(404)
def _page_not_found(exc):
    """Not found: a page of the part of the site it is under, not werkzeug's bare page (the
    console's under /console, the help center's elsewhere); a JSON error on API paths; a
    response a view made for it as it is."""
    if exc.response is not None:
        return exc
    if wants_json():
        return error_response(exc.description or exc.name, 404)
    if request.path == "/console" or request.path.startswith("/console/"):
        return console.error_page("page_not_found"), 404
    return render_template("404.html", **_template_context()), 404


ICON_MAX_AGE = 7 * 24 * 3600   # seconds a browser may keep the favicon


@bp.get("/favicon.ico")
def favicon():
    """The icon browsers ask for at the root whatever the page links (``static/favicon.ico``;
    the pages also link ``favicon.svg``)."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=ICON_MAX_AGE)


@bp.get("/")
@public_limit()
def home():
    language = i18n.ui_language()
    return render_template("home.html", categories=helpcenter.categories(language),
                           popular=helpcenter.popular(language))


@bp.get("/c/<category>")
@public_limit()
def category(category: str):
    language = i18n.ui_language()
    info = next((c for c in helpcenter.categories(language) if c["id"] == category), None)
    if info is None:
        _not_found()
    return render_template("category.html", category=info,
                           articles=helpcenter.category_articles(category, language))


@bp.get("/a/<lang>/<slug>")
@public_limit()
def article(lang: str, slug: str):
    found = helpcenter.public_article(lang, slug)
    if found is None:
        _not_found()
    translations = helpcenter.public_translations(found)
    return render_template(
        "article.html", article=found,
        category_name=helpcenter.catalog().category_name(found.category, i18n.follow_content(found.language)),
        translations=[translations[code] for code in LANGUAGES if code in translations],
        related=helpcenter.related(found))


def _choice(name: str, allowed) -> str:
    """A single filter value from the query string, or "" when absent or unknown."""
    value = request.args.get(name, "").strip()
    return value if value in allowed else ""


def _page_number() -> int:
    try:
        return min(max(int(request.args.get("page", 1)), 1), MAX_PAGE)
    except ValueError:
        return 1


def _search_url(query: str, category: str = "", language: str = "", page: int = 1) -> str:
    return url_for("public.search_page", q=query, category=category or None,
                   language=language or None, page=page if page > 1 else None)


def _facet_links(counts: dict[str, int], labels: dict[str, str], selected: str, link) -> list[dict]:
    """Filter links for one facet: "All" first, then values by count. ``link(value)`` is the
    URL that selects a value ("" = no filter)."""
    links = [{"label": i18n.translate("filter_all"), "count": None, "url": link(""),
              "selected": not selected}]
    for value, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        links.append({"label": labels.get(value, value), "count": count, "url": link(value),
                      "selected": value == selected})
    return links


def _search_view(query: str, language: str) -> dict:
    """Results, facet links (only of facets that offer a choice) and paging of the results page."""
    categories = {c["id"]: c["name"] for c in helpcenter.categories(language)}
    category = _choice("category", categories)
    content_language = _choice("language", LANGUAGES)
    page = _page_number()
    results = search.search(query, language=language, categories=(category,) if category else (),
                            languages=(content_language,) if content_language else (),
                            page=page, per_page=PER_PAGE)
    facets = {
        "category": _facet_links(results.facets.get("category", {}), categories, category,
                                 lambda v: _search_url(query, v, content_language)),
        "language": _facet_links(results.facets.get("language", {}), i18n.LANGUAGE_NAMES,
                                 content_language, lambda v: _search_url(query, category, v)),
    }
    facets = {name: links for name, links in facets.items() if len(links) > 1}  # "All" and more
    pages = max(1, math.ceil(results.total / PER_PAGE))

    def page_url(number: int) -> str | None:
        return _search_url(query, category, content_language, number) if 1 <= number <= pages else None

    return {
        "results": results, "facets": facets, "page": page, "pages": pages,
        "active_filters": [label for label in (categories.get(category),
                                               i18n.LANGUAGE_NAMES.get(content_language)) if label],
        "category_names": categories, "previous_url": page_url(page - 1), "next_url": page_url(page + 1),
        "did_you_mean_url": (_search_url(results.did_you_mean) if results.did_you_mean
                             and results.total < FEW_RESULTS else None),
    }


@bp.get("/search")
@public_limit()
def search_page():
    query = request.args.get("q", "").strip()
    context = {"query": query, "too_long": len(query) > MAX_QUERY_LENGTH, "results": None}
    if query and not context["too_long"]:
        asked_in = detect_language(clean_query(query), default=i18n.ui_language())
        context.update(_search_view(query, i18n.follow_content(asked_in)))
    return render_template("search.html", max_query_length=MAX_QUERY_LENGTH, **context)


@bp.get("/contact")
@public_limit()
def contact():
    query = request.args.get("q", "").strip()[:MAX_QUERY_LENGTH]
    return render_template("contact.html", query=query)
