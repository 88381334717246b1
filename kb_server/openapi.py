"""The staff API (tickets, users, analytics) and the public API (search, articles, widget,
events, contact) described as OpenAPI 3.1 (served at ``/api/v1/openapi.json``).

``OPERATIONS`` (with ``_articles()`` for authoring) lists every staff endpoint once and
``PUBLIC_OPERATIONS`` every public one, with the schemas of their answers (the fuzz test checks
the answers against them); a test checks both against the app's routes, so an endpoint added
without a description (or a description of a removed one) fails the suite.
"""
from __future__ import annotations

from kb_server.console.actions import ACTIONS
from kb_server.models.integrations import WEBHOOK_EVENTS
from kb_server.views import api

BEARER = [{"personalToken": []}]
ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
REFUSALS = {"401": ERROR, "403": ERROR, "4XX": ERROR}   # 400 bad input, 404, 409 ...


def _op(summary: str, right: str, params=(), body: str | None = None, status: str = "200") -> dict:
    operation = {"summary": summary, "description": f"Needs the right `{right}`.",
                 "security": BEARER, "parameters": list(params),
                 "responses": {status: {"description": "OK"}, **REFUSALS}}
    if body:
        operation["requestBody"] = {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}}
    return operation


def _query(name: str, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string"},
            "description": description}


def _path(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


LIST_PARAMS = [_query(name, text) for name, text in [
    ("view", "mine | line | open | sla | gaps | all (default all)"),
    ("status", "new | open | pending | resolved | closed"), ("class", "request class"),
    ("priority", "P1..P4"), ("line", "1..4"), ("site", "site key"), ("language", "en | ru | uk"),
    ("assignee", "user id, me or none"), ("sla", "breached | due_soon | ok | paused"),
    ("kind", "contact | gap"), ("q", "text searched in tickets and their conversation"),
    ("sort", "due (default) | priority | created | updated"), ("page", "1.."),
    ("per_page", "1..100")]]

RANGE_PARAMS = [_query(name, text) for name, text in [
    ("from", "first UTC day, YYYY-MM-DD (default: 29 days before `to`)"),
    ("to", "last UTC day, YYYY-MM-DD, included (default: today)"),
    ("site", "site key (`-`: the help center alone)"), ("language", "en | ru | uk ..."),
    ("channel", "widget | helpcenter"), ("format", "json (default) | csv")]]


def _analytics(summary: str, *params: tuple[str, str]) -> dict:
    """A read-only analytics endpoint: a personal token, or the console session."""
    operation = _op(summary, "analytics.view", RANGE_PARAMS + [_query(n, t) for n, t in params])
    operation["description"] += " Also accepts the console's session cookie (GET only)."
    return {"get": operation}


OPERATIONS: dict[str, dict[str, dict]] = {
    "/api/v1/tickets": {"get": _op("List tickets of a queue view, filtered", "tickets.view", LIST_PARAMS)},
    "/api/v1/tickets/counts": {"get": _op("Tickets per queue view", "tickets.view")},
    "/api/v1/tickets/{reference}": {"get": _op(
        "A ticket with its session, conversation, history and suggested articles",
        "tickets.view", [_path("reference")])},
    "/api/v1/tickets/{reference}/messages/{message_id}/files/{index}": {"get": _op(
        "A file the user sent with a message (a download; its type as accepted)", "tickets.view",
        [_path("reference"), {**_path("message_id"), "schema": {"type": "integer"}},
         {**_path("index"), "schema": {"type": "integer"}}])},
    "/api/v1/tickets/{reference}/{action}": {"post": _op(
        "Act on a ticket: " + ", ".join(ACTIONS), "tickets.work",
        [_path("reference"), {**_path("action"), "schema": {"type": "string", "enum": list(ACTIONS)}}],
        body="Action")},
    "/api/v1/kcs/link-rate": {"get": _op(
        "KCS link rate: share of resolved tickets with at least one linked article", "tickets.view",
        [_query("since", "resolved at or after (ISO date/time)"),
         _query("until", "resolved before (ISO date/time)")])},
    "/api/v1/flags": {"get": _op("Open article flags, grouped per article", "flags.manage")},
    "/api/v1/flags/{flag_id}/resolve": {"post": _op(
        "Resolve an article flag with a note", "flags.manage",
        [{**_path("flag_id"), "schema": {"type": "integer"}}], body="FlagResolution")},
    "/api/v1/me": {"get": _op("The token's user", "tokens.own")},
    "/api/v1/macros": {"get": _op("Canned answers", "tickets.view"),
                       "post": _op("Add a canned answer", "macros.manage", body="Macro", status="201")},
    "/api/v1/users": {"get": _op("Staff accounts", "users.manage"),
                      "post": _op("Add an account", "users.manage", body="User", status="201")},
    "/api/v1/users/{user_id}": {"patch": _op("Change an account", "users.manage",
                                             [{**_path("user_id"), "schema": {"type": "integer"}}],
                                             body="User")},
    "/api/v1/analytics/summary": _analytics(
        "Searches, zero-result, no-click and click-through rates, sessions, deflection, "
        "self-service score, helpful rate, CSAT, line-1 resolution, link rate, ticket metrics"),
    "/api/v1/analytics/daily": _analytics(
        "Per day: searches (intents), with no results, sessions, deflection rate, contacts"),
    "/api/v1/analytics/heatmap": _analytics(
        "Activity per weekday (Monday first) and local hour: 7 x 24 counts",
        ("tz", "IANA time zone, e.g. Europe/Berlin (default: the TIME_ZONE setting)"),
        ("metric", "searches (intents, default) | contacts | tickets")),
    "/api/v1/analytics/queries": _analytics(
        "Top or failed queries (search intents)", ("order", "top (default) | failed"),
        ("limit", "1..1000 (default 50)")),
    "/api/v1/analytics/articles": _analytics(
        "Articles read: views, votes, helpful rate, reasons, contacts after reading, flagged, stale"),
    "/api/v1/analytics/gaps": _analytics(
        "Content gaps: open gap tickets by users affected, with their queries, a write-article "
        "link and the articles that almost matched", ("limit", "1..500 (default 50)")),
    "/api/v1/webhooks": {"get": _op("Webhook endpoints", "webhooks.manage"),
                         "post": _op("Add a webhook endpoint (the answer holds a generated "
                                     "secret once)", "webhooks.manage", body="Webhook", status="201")},
    "/api/v1/webhooks/{webhook_id}": {
        "patch": _op("Change a webhook endpoint", "webhooks.manage",
                     [{**_path("webhook_id"), "schema": {"type": "integer"}}], body="Webhook"),
        "delete": _op("Remove a webhook endpoint and its delivery log", "webhooks.manage",
                      [{**_path("webhook_id"), "schema": {"type": "integer"}}])},
    "/api/v1/webhooks/deliveries": {"get": _op(
        "The webhook delivery log, newest first", "webhooks.manage",
        [_query("webhook", "endpoint id"), _query("limit", "1..500 (default 100)")])},
    "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                     "responses": {"200": {"description": "OK"}}}},
}

SCHEMAS = {
    "Error": {"type": "object", "properties": {"error": {"type": "string"}, "status": {"type": "integer"},
                                                "field": {"type": "string", "description": "the input at fault"},
                                                "missing_facts": {"type": "array", "items": {"type": "string"}}}},
    "Action": {"type": "object", "description": "Fields used by each action", "properties": {
        "body": {"type": "string", "description": "reply, note; resolve-with-article: words "
                 "before the article's title and link; resolve-incident: the answer to the "
                 "linked users of a language without a text of its own"},
        "bodies": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "resolve-incident: the answer per language (en, ru, uk), each "
                   "linked user answered in their ticket's; or body_en, body_ru, body_uk"},
        "texts": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 300},
                  "description": "notice (incidents): the notice per language (en, ru, uk); or "
                  "text_en, text_ru, text_uk"},
        "macro": {"type": "integer", "description": "reply: canned answer id (its text when body is empty)"},
        "status": {"type": "string", "description": "status; reply: status after sending"},
        "rating": {"type": "boolean", "description": "reply with status resolved: add the "
                   "satisfaction rating links (default true)"},
        "pending_reason": {"type": "string", "enum": ["user", "third_party"]},
        "assignee": {"type": "string", "description": "assign: user id or none"},
        "request_class": {"type": "string"}, "priority": {"type": "string"},
        "line": {"type": "integer", "description": "escalate / deescalate: target line"},
        "facts": {"type": "object", "additionalProperties": {"type": "string"}},
        "outside_party": {"type": "string"}, "outside_reference": {"type": "string"},
        "into": {"type": "string", "description": "merge: reference of the ticket to merge into"},
        "article": {"type": "string", "description": "resolve-with-article, link, flag: the "
                    "article as language/slug (en/reset-password)"},
        "relation": {"type": "string", "enum": ["resolved_with", "created_from", "referenced"],
                     "description": "link (default referenced)"},
        "notify": {"type": "boolean", "description": "resolve-with-article on a gap ticket: send "
                   "the article to the users who left an e-mail on the gap (default false)"},
        "reason": {"type": "string", "description": "escalate / deescalate (required); flag: "
                   "wrong | outdated | missing_info"},
        "comment": {"type": "string", "description": "flag: what is wrong (required)"}}},
    "FlagResolution": {"type": "object", "required": ["note"],
                       "properties": {"note": {"type": "string", "description": "what was done"}}},
    "Macro": {"type": "object", "required": ["name", "body"],
              "properties": {"name": {"type": "string"}, "body": {"type": "string"}}},
    "Webhook": {"type": "object", "properties": {
        "url": {"type": "string", "description": "http(s) URL the events are POSTed to"},
        "events": {"type": "array", "items": {"type": "string", "enum": list(WEBHOOK_EVENTS)}},
        "secret": {"type": "string", "description": "16-200 characters; generated when absent"},
        "description": {"type": "string"}, "active": {"type": "boolean"}}},
    "User": {"type": "object", "properties": {
        "email": {"type": "string"}, "name": {"type": "string"},
        "role": {"type": "string", "enum": ["admin", "editor", "analyst", "agent"]},
        "line": {"type": "integer"}, "password": {"type": "string"}, "active": {"type": "boolean"}}},
}


def _articles() -> tuple[dict, dict]:
    """Authoring (``kb_server.views.articles_api``): its paths and schemas."""
    article_id = {**_path("article_id"), "schema": {"type": "integer"}}
    paths = {
        "/api/v1/articles": {
            "get": _op("Articles as the console lists them (most recently updated first, 50 a page)",
                       "articles.view", [_query(name, text) for name, text in [
                           ("q", "words of the title or slug"), ("language", "en | ru | uk"),
                           ("category", "category id"),
                           ("state", "work_in_progress | not_validated | validated | archived"),
                           ("author", "user id of anyone who saved a revision"),
                           ("updated", "7 | 30 | 90 | 365"), ("flag", "flagged | stale | review"),
                           ("page", "1..1000")]]),
            "post": _op("A new draft (work in progress); answers as GET /api/v1/articles/{id}",
                        "articles.edit", body="ArticleDraft", status="201")},
        "/api/v1/articles/{article_id}": {"get": _op(
            "An article, its latest revision (front matter and Markdown) and its revisions",
            "articles.view", [article_id])},
        "/api/v1/articles/{article_id}/revisions": {"post": _conflicting(_op(
            "Save the fields as the next revision (409 when base_revision is not the latest)",
            "articles.edit", [article_id], body="ArticleRevision", status="201"))},
        "/api/v1/articles/{article_id}/submit": {"post": _conflicting(_op(
            "Submit the latest revision for review (not validated)", "articles.edit",
            [article_id], body="ArticleAction"))},
        "/api/v1/articles/{article_id}/publish": {"post": _conflicting(_op(
            "Publish the latest revision: validated, written to its file, searchable (409 when "
            "the file changed on disk since base_hash, or someone saved since base_revision)",
            "articles.publish", [article_id], body="ArticleAction"))},
        "/api/v1/articles/{article_id}/archive": {"post": _conflicting(_op(
            "Take the article off the help center (its file stays, as a draft)",
            "articles.publish", [article_id], body="ArticleAction"))},
        "/api/v1/articles/{article_id}/revisions/{number}/restore": {"post": _op(
            "Save revision {number}'s content again as the newest revision", "articles.edit",
            [article_id, {**_path("number"), "schema": {"type": "integer"}}], status="201")},
    }
    text = {"type": "string"}
    fields = {"title": text, "slug": text, "language": text, "category": text,
              "translation_key": text, "summary": text, "body": {**text, "description": "Markdown"},
              "visibility": {"type": "string", "enum": ["public", "internal"]},
              "tags": {"type": "array", "items": text}, "urls": {"type": "array", "items": text},
              "note": {**text, "description": "why (kept with the revision)"},
              "source_article": {"type": "integer", "description": "a translation: the id of "
                                 "the version it is translated from"},
              "source_revision": {"type": "integer", "description": "... and the number of the "
                                  "revision of it the translation is now up to date with"}}
    action = {"base_revision": {"type": "integer", "description": "the latest revision you saw"},
              "base_hash": {**text, "description": "publish, archive: the file's hash you started "
                            "from (default: the one the database knows)"},
              "notify": {"type": "boolean", "description": "publish: e-mail the article to the "
                         "users of the gap ticket it answers"},
              "note": text}
    schemas = {
        "ArticleDraft": {"type": "object", "required": ["title", "slug", "language"],
                         "properties": {**fields, "source_ticket": {
                             **text, "description": "ticket reference the draft is written from"}}},
        "ArticleRevision": {"type": "object", "required": ["title", "slug", "language",
                                                           "base_revision"],
                            "properties": {**fields, "base_revision": action["base_revision"]}},
        "ArticleAction": {"type": "object", "properties": action},
    }
    return paths, schemas


def _conflicting(operation: dict) -> dict:
    operation["responses"]["409"] = ERROR
    return operation


# --- the public API (no token: CORS and rate limits) ---------------------------------------------
def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


PUBLIC_ERRORS = {"4XX": ERROR, "503": {**ERROR, "description": "unavailable: retry later"}}


def _public(summary: str, params=(), answer: str = "", body: str = "", status: str = "200",
            more: dict | None = None) -> dict:
    """A public operation answering ``answer`` (a schema name) with ``status``."""
    operation = {"summary": summary, "security": [], "tags": ["public"],
                 "parameters": [_param(*p) for p in params],
                 "responses": {status: {"description": "OK", **(_json(_ref(answer)) if answer else {})},
                               **(more or {}), **PUBLIC_ERRORS}}
    if body:
        operation["requestBody"] = {"required": True, **_json(_ref(body))}
    return operation


def _param(name: str, schema: dict, description: str = "", where: str = "query",
           required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required or where == "path",
            "schema": schema, "description": description}


TEXT = {"type": "string"}
SITE = ("site", {"type": "string", "maxLength": 64}, "site key of the widget (scopes categories)")
LANGUAGE = ("language", {"type": "string", "maxLength": 16}, "en | ru | uk (default: the site's)")
PUBLIC_OPERATIONS: dict[str, dict[str, dict]] = {
    "/api/v1/search": {"get": _public("Ranked articles, one per translation, with facets", [
        ("q", {"type": "string", "minLength": 1, "maxLength": 500}, "the question", "query", True),
        LANGUAGE, SITE, ("category", TEXT, "category ids, comma-separated"),
        ("page", {"type": "integer", "minimum": 1, "maximum": api.MAX_PAGE}, "1..100"),
        ("per_page", {"type": "integer", "minimum": 1, "maximum": api.MAX_PER_PAGE}, "1..50 (default 10)"),
        ("mode", {"type": "string", "enum": ["keyword", "semantic", "hybrid"]}, "ranking")],
        "SearchResults")},
    "/api/v1/suggest": {"get": _public("Search-as-you-type completions", [
        ("q", {"type": "string", "minLength": 1, "maxLength": api.MAX_PREFIX_LENGTH}, "what was typed",
         "query", True),
        LANGUAGE, SITE, ("limit", {"type": "integer", "minimum": 1, "maximum": api.MAX_SUGGESTIONS}, "1..10")],
        "Suggestions")},
    "/api/v1/articles/{lang}/{slug}": {"get": _public(
        "A public article (sanitized HTML), its translations and related articles",
        [("lang", TEXT, "", "path"), ("slug", TEXT, "", "path"), SITE], "Article")},
    "/api/v1/categories": {"get": _public("Categories with public articles and their counts",
                                          [LANGUAGE, SITE], "Categories")},
    "/api/v1/pages/suggestions": {"get": _public(
        "Articles written for the product page the user is on", [
            ("path", {"type": "string", "maxLength": api.MAX_PATH_LENGTH}, "URL path starting with /",
             "query", True),
            LANGUAGE, SITE, ("limit", {"type": "integer", "minimum": 1,
                                       "maximum": api.MAX_PAGE_SUGGESTIONS}, "1..10")],
        "PageSuggestions")},
    "/api/v1/notices": {"get": _public("Incident notices published by staff",
                                       [LANGUAGE, SITE], "Notices")},
    "/api/v1/health": {"get": _public("Whether search answers (503 when it does not)", [], "Health")},
    "/api/v1/widget/config": {"get": _public("The widget's settings for a site",
                                             [LANGUAGE, SITE], "WidgetConfig")},
    "/api/v1/events": {"post": _public("A search, click or view in a session (written in batches)",
                                       body="EventIn", answer="Ok", status="201")},
    "/api/v1/feedback": {"post": _public("Was this article helpful?", body="FeedbackIn",
                                         answer="Ok", status="201")},
    "/api/v1/contact": {"post": _public(
        "Contact support: a ticket with the session's context", body="ContactIn",
        answer="ContactReceipt", status="201",
        more={"202": {"description": "the database is unreachable: the message is kept and "
                      "filed when it is back", **_json(_ref("ContactQueued"))}})},
}

_HIT = {"type": "object", "required": ["id", "language", "slug", "title", "url"], "properties": {
    "id": TEXT, "language": TEXT, "slug": TEXT, "title": TEXT, "url": TEXT, "anchor": TEXT,
    "section": TEXT, "section_html": TEXT, "snippet": TEXT, "summary": TEXT, "category": TEXT, "translation_key": TEXT,
    "score": {"type": "number"}}}
_CARD = {"type": "object", "required": ["id", "language", "slug", "title"], "properties": {
    "id": TEXT, "language": TEXT, "slug": TEXT, "title": TEXT, "summary": TEXT, "url": TEXT,
    "category": TEXT}}
_SESSION = {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"}
_CONTEXT = {"site": {"type": "string", "maxLength": 64}, "language": {"type": "string", "maxLength": 16},
            "page_url": {"type": "string", "maxLength": 2000}, "query": {"type": "string", "maxLength": 500}}
PUBLIC_SCHEMAS = {
    "SearchResults": {"type": "object", "required": ["hits", "total"], "properties": {
        "hits": {"type": "array", "items": _HIT}, "total": {"type": "integer"},
        "did_you_mean": {"type": ["string", "null"]},
        "showing": {"type": ["string", "null"],
                    "description": "the spelling correction these hits answer (none as typed)"},
        "facets": {"type": "object"}}},
    "Suggestions": {"type": "object", "required": ["query", "suggestions"], "properties": {
        "query": TEXT, "suggestions": {"type": "array", "items": _HIT}}},
    "Article": {"type": "object", "required": ["id", "language", "slug", "title", "html", "url"],
                "properties": {"id": TEXT, "language": TEXT, "slug": TEXT, "title": TEXT,
                               "html": TEXT, "url": TEXT, "summary": TEXT, "category": TEXT,
                               "tags": {"type": "array", "items": TEXT},
                               "translations": {"type": "array", "items": TEXT},
                               "related": {"type": "array", "items": _CARD},
                               "toc": {"type": "array", "items": {"type": "object"}}}},
    "Categories": {"type": "object", "required": ["language", "categories"], "properties": {
        "language": TEXT, "categories": {"type": "array", "items": {
            "type": "object", "required": ["id", "name", "count"], "properties": {
                "id": TEXT, "name": TEXT, "count": {"type": "integer"}, "url": TEXT}}}}},
    "PageSuggestions": {"type": "object", "required": ["path", "articles"], "properties": {
        "path": TEXT, "articles": {"type": "array", "items": _CARD}}},
    "Notices": {"type": "object", "required": ["language", "notices"], "properties": {
        "language": TEXT, "notices": {"type": "array", "items": {"type": "object"}}}},
    "Health": {"type": "object", "required": ["ok", "search", "rate_limits"], "properties": {
        "ok": {"type": "boolean"}, "search": {"type": "object"}, "rate_limits": {"type": "object"},
        "following": {"type": ["object", "null"]},
        "articles_sync": {"type": ["object", "null"]}}},
    "WidgetConfig": {"type": "object", "required": ["language", "languages", "categories"],
                     "properties": {"language": TEXT, "languages": {"type": "array", "items": TEXT},
                                    "categories": {"type": "array"}, "site": {"type": ["object", "null"]}}},
    "Ok": {"type": "object", "required": ["ok"], "properties": {"ok": {"const": True}}},
    "EventIn": {"type": "object", "required": ["session_id", "kind"], "properties": {
        "session_id": _SESSION, "kind": {"type": "string", "enum": ["search", "click", "view"]},
        **_CONTEXT, "result_count": {"type": "integer", "minimum": 0},
        "result_ids": {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 200}},
        "article_id": {"type": "string", "maxLength": 200}}},
    "FeedbackIn": {"type": "object", "required": ["session_id", "article_id", "helpful"], "properties": {
        "session_id": _SESSION, "article_id": {"type": "string", "maxLength": 200},
        "helpful": {"type": "boolean"},
        "reason": {"type": "string", "enum": ["outdated", "unclear", "not_solved", "other"]},
        "comment": {"type": "string", "maxLength": 2000}, **_CONTEXT}},
    "ContactIn": {"type": "object", "required": ["email", "message"], "properties": {
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "name": {"type": "string", "maxLength": 200},
        "message": {"type": "string", "minLength": 1, "maxLength": 5000},
        "session_id": _SESSION, **_CONTEXT}},
    "ContactReceipt": {"type": "object", "required": ["ticket"], "properties": {"ticket": {
        "type": "object", "required": ["reference", "created_at"],
        "properties": {"reference": TEXT, "created_at": TEXT}}}},
    "ContactQueued": {"type": "object", "required": ["queued", "message"], "properties": {
        "queued": {"const": True},
        "message": {**TEXT, "description": "for the user, in the contact's language (en, ru, uk)"}}},
}


def document() -> dict:
    article_paths, article_schemas = _articles()
    return {"openapi": "3.1.0",
            "info": {"title": "Linezero API", "version": "1"},
            "paths": {**OPERATIONS, **article_paths, **PUBLIC_OPERATIONS},
            "components": {"schemas": {**SCHEMAS, **article_schemas, **PUBLIC_SCHEMAS},
                           "securitySchemes": {"personalToken": {
                "type": "http", "scheme": "bearer",
                "description": "A personal token: console 'My account' or `kb user token EMAIL`"}}}}
