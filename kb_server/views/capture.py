"""Public endpoints the widget and help center post to: events, feedback, contact.

Cross-origin JSON APIs (CORS + rate limits, no CSRF token). Every field is type- and
size-checked; a bad body is a 400 JSON error, an unknown site a 404.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, current_app, jsonify, request

from kb_server import helpcenter, i18n, intake
from kb_server.extensions import contact_limit, csrf, public_limit
from kb_server.jsonapi import APIError, error_response, json_body, str_arg
from kb_server.models import REPORTED_KINDS
from kb_server.sites import site_from_request
from kb_server.tickets import service

bp = Blueprint("events", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

FEEDBACK_REASONS = ("outdated", "unclear", "not_solved", "other")
MAX_MESSAGE = 5000
MAX_COMMENT = 2000
MAX_RESULT_IDS = 50
MAX_PAGE_URL = 2000
SESSION_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(?:[-_][a-z0-9]{1,8})*$")
RETRY_AFTER_SECONDS = 60     # a contact neither stored nor spooled: when to send it again
EMAIL_RE = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]{2,}$")


def _body() -> dict:
    """The JSON object with null fields treated as absent."""
    return {key: value for key, value in json_body().items() if value is not None}


def _text(data: dict, name: str, max_length: int = 500, required: bool = False) -> str:
    return str_arg(name, required=required, max_length=max_length, source=data)


def _session_id(data: dict, required: bool = True) -> str:
    value = _text(data, "session_id", 64, required)
    if value and not SESSION_RE.match(value):
        raise APIError("'session_id' must be 1-64 letters, digits or _.:-")
    return value


def _language(data: dict) -> str:
    """A language tag ("ru", "uk-UA"), stored as its primary subtag."""
    value = _text(data, "language", 16).lower()
    if value and not LANGUAGE_RE.match(value):
        raise APIError("'language' must be a language code such as en, ru or uk")
    return re.split(r"[-_]", value)[0]


def _page_url(data: dict) -> str:
    value = _text(data, "page_url", MAX_PAGE_URL)
    if value and not (value.startswith("/") or urlsplit(value).scheme in ("http", "https")):
        raise APIError("'page_url' must be an http(s) URL or a path")
    return without_private_parts(value, current_app.config["PAGE_URL_PARAMS"])


def without_private_parts(url: str, keep: tuple[str, ...] = ()) -> str:
    """``url`` without its ``#fragment`` and query string (where tokens, e-mails and search terms
    of the host product live), except the parameters named in ``keep``."""
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k in keep])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _result_count(data: dict) -> int:
    value = data.get("result_count", 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise APIError("'result_count' must be a non-negative integer")
    return value


def _result_ids(data: dict) -> list[str]:
    value = data.get("result_ids", [])
    if not isinstance(value, list) or len(value) > MAX_RESULT_IDS:
        raise APIError(f"'result_ids' must be a list of at most {MAX_RESULT_IDS} article ids")
    if not all(isinstance(item, str) and 0 < len(item) <= 200 for item in value):
        raise APIError("'result_ids' must hold article ids (strings)")
    return value


def _email(data: dict) -> str:
    value = _text(data, "email", 254, required=True)
    if not EMAIL_RE.match(value):
        raise APIError("'email' is not a valid email address", field="email")
    return value


def _common(data: dict, kind: str, session_required: bool = True) -> dict:
    """Fields every event has: site, session, language, page, browser."""
    site = site_from_request(data)
    return {"kind": kind, "site_key": site.key if site else "",
            "session_id": _session_id(data, session_required), "language": _language(data),
            "page_url": _page_url(data), "query": _text(data, "query"),
            "user_agent": request.headers.get("User-Agent", "")[:500]}


@bp.post("/events")
@public_limit()
def post_event():
    """A search, click or view in a session."""
    data = _body()
    kind = _text(data, "kind", 16, required=True)
    if kind not in REPORTED_KINDS:
        raise APIError(f"'kind' must be one of {', '.join(REPORTED_KINDS)}")
    fields = _common(data, kind)
    fields.update(result_count=_result_count(data), result_ids=_result_ids(data),
                  article_id=_text(data, "article_id", 200, required=kind != "search"))
    if kind == "search" and not fields["query"]:
        raise APIError("'query' is required for a search event")
    intake.intake().add(fields)
    return jsonify({"ok": True}), 201


@bp.post("/feedback")
@public_limit()
def post_feedback():
    """Was this article helpful? (with an optional reason and comment)"""
    data = _body()
    helpful = data.get("helpful")
    if not isinstance(helpful, bool):
        raise APIError("'helpful' must be true or false")
    reason = _text(data, "reason", 16)
    if reason and reason not in FEEDBACK_REASONS:
        raise APIError(f"'reason' must be one of {', '.join(FEEDBACK_REASONS)}")
    fields = _common(data, "feedback")
    fields.update(message=_text(data, "comment", MAX_COMMENT),
                  data={"helpful": helpful, "reason": reason})
    fields["article_id"] = _published_article(data)     # after the checks of the form (400)
    service.process_arrival(service.store_event(**fields))
    return jsonify({"ok": True}), 201


def _published_article(data: dict) -> str:
    """The ``article_id`` (``en/reset-password``) of an article the help center shows: feedback
    on any other would open a ticket about nothing."""
    article_id = _text(data, "article_id", 200, required=True)
    language, _, slug = article_id.partition("/")
    if helpcenter.public_article(language, slug) is None:
        raise APIError(f"unknown article {article_id!r}", 404, field="article_id")
    return article_id


@bp.post("/contact")
@public_limit()
@contact_limit()
def post_contact():
    """Contact support: always creates a ticket with the session's context."""
    data = _body()
    email, name = _email(data), _text(data, "name", 200)
    message = _text(data, "message", MAX_MESSAGE, required=True)
    fields = _common(data, "contact", session_required=False)
    try:
        ticket = intake.store_contact(fields, message=message, email=email, name=name)
    except intake.SpoolFailed:
        response = error_response("your message could not be received right now: please send "
                                  "it again in a minute", 503)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if ticket is None:
        return jsonify({"queued": True,
                        "message": i18n.translate_in(fields["language"], "contact_queued")}), 202
    # what the user needs: the reference to quote (class, priority and SLA are staff matters)
    return jsonify({"ticket": {"reference": ticket.reference,
                               "created_at": ticket.to_dict()["created_at"]}}), 201
