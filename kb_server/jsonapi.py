"""Shared plumbing of the JSON endpoints: 4xx errors as JSON, argument parsing, payloads.

Every JSON endpoint (help-center API, widget, tickets) validates its input with the helpers
here, so a malformed request always gets a 4xx JSON error (``{"error": ..., "status": ...}``)
and never a 500.
"""
from __future__ import annotations

import json
import re

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from indexer.languages import LANGUAGES
from indexer.articles import Article
from indexer.search import SearchUnavailable

MAX_QUERY_LENGTH = 500
MAX_JSON_DEPTH = 8
UNSTORABLE = re.compile("[\ud800-\udfff\x00]")


class APIError(Exception):
    """A client error with a message meant for the API user."""

    def __init__(self, message: str, status: int = 400, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field      # the input at fault, so a form can point at it


def error_response(error: str, status: int, field: str | None = None, **extra):
    """``{"error": error, "status": status}`` (and ``field``, and any ``extra`` keys) as the
    response, with that status."""
    response = jsonify({"error": error, "status": status, **({"field": field} if field else {}),
                        **extra})
    response.status_code = status
    return response


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/widget/")


def init_app(app: Flask) -> None:
    """JSON errors for API paths (HTML pages keep Flask's own error pages)."""

    @app.errorhandler(APIError)
    def _api_error(exc: APIError):
        return error_response(exc.message, exc.status, exc.field)

    @app.before_request
    def _no_nul_in_query():
        """A NUL byte in a query parameter is never meaningful, and databases refuse it."""
        if wants_json() and any("\x00" in key or "\x00" in value
                                for key, value in request.args.items(multi=True)):
            return error_response("query parameters may not contain NUL characters", 400)

    @app.errorhandler(SearchUnavailable)
    def _search_unavailable(exc: SearchUnavailable):
        if wants_json():
            return error_response(f"search is unavailable: {exc}", 503)
        return render_template("503.html"), 503

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if wants_json():
            return error_response(exc.description or exc.name, exc.code or 500)
        return exc


def str_arg(name: str, *, required: bool = False, max_length: int = MAX_QUERY_LENGTH,
            source=None) -> str:
    """A string parameter (query string by default), length-checked."""
    value = (source if source is not None else request.args).get(name, "")
    if not isinstance(value, str):
        raise APIError(f"'{name}' must be a string", field=name)
    value = value.strip()
    if required and not value:
        raise APIError(f"'{name}' is required", field=name)
    if len(value) > max_length:
        raise APIError(f"'{name}' is longer than {max_length} characters", field=name)
    return value


def int_arg(name: str, default: int, *, minimum: int = 1, maximum: int = 100) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise APIError(f"'{name}' must be an integer") from None
    if not minimum <= value <= maximum:
        raise APIError(f"'{name}' must be between {minimum} and {maximum}")
    return value


def lang_arg(name: str = "lang", source=None) -> str | None:
    """An optional language code (en, ru, uk)."""
    value = str_arg(name, max_length=8, source=source).lower()
    if value and value not in LANGUAGES:
        raise APIError(f"'{name}' must be one of {', '.join(LANGUAGES)}")
    return value or None


def list_arg(name: str, allowed=None) -> list[str]:
    """A repeated or comma-separated parameter: ``?category=a&category=b`` or ``a,b``."""
    values = [v.strip() for raw in request.args.getlist(name) for v in raw.split(",") if v.strip()]
    if len(values) > 20:
        raise APIError(f"too many values for '{name}'")
    if allowed is not None:
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise APIError(f"unknown {name}: {', '.join(unknown)}")
    return values


def json_body(max_fields: int = 50) -> dict:
    """The request's JSON object, or a 400: at most ``MAX_JSON_DEPTH`` levels deep, its strings
    made storable (a lone surrogate or NUL becomes U+FFFD: a user's message is never lost)."""
    try:
        data = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):    # not JSON, not UTF-8, or nested past the parser
        raise APIError("request body must be a JSON object") from None
    if not isinstance(data, dict):
        raise APIError("request body must be a JSON object")
    if len(data) > max_fields:
        raise APIError("too many fields in request body")
    if _depth(data) > MAX_JSON_DEPTH:
        raise APIError(f"request body is nested deeper than {MAX_JSON_DEPTH} levels")
    return _storable(data)


def _depth(value) -> int:
    """Nesting depth of decoded JSON, without recursion (a hostile body may be deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _storable(value):
    """``value`` with every string (keys too) free of lone surrogates and NUL characters,
    which databases refuse (call on JSON already checked for depth)."""
    if isinstance(value, str):
        return UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def article_payload(article: Article, translations: dict[str, Article] | None = None) -> dict:
    """An article as the API and the widget return it (sanitized HTML, sections, translations)."""
    return {
        "id": article.id, "slug": article.slug, "language": article.language,
        "title": article.title, "category": article.category, "tags": article.tags,
        "summary": article.summary, "updated": article.updated, "html": article.html,
        "toc": article.toc, "translation_key": article.translation_key,
        "translations": sorted(lang for lang, a in (translations or {}).items()
                               if a.is_public and lang != article.language),
    }
