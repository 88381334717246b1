"""The staff JSON API: what the console does, with a personal token (``kb_server.auth``).

GET  /api/v1/tickets?view=&status=&class=&priority=&line=&site=&language=&assignee=&sla=&kind=&q=&sort=&page=&per_page=
GET  /api/v1/tickets/counts                   tickets per queue view
GET  /api/v1/tickets/<reference>              the ticket page: context, conversation, history, suggestions
GET  /api/v1/tickets/<reference>/messages/<id>/files/<n>   a file the user sent (a download)
POST /api/v1/tickets/<reference>/<action>     take, assign, reply, note, classify, status, reopen,
                                              facts, escalate, deescalate, merge,
                                              resolve-with-article, link, flag; incidents:
                                              resolve-incident, notice, end-notice (JSON body)
GET  /api/v1/kcs/link-rate?since=&until=      share of resolved tickets with a linked article
GET  /api/v1/flags                            open article flags per article (editors, admins)
POST /api/v1/flags/<id>/resolve               resolve a flag with a note
GET  /api/v1/me                               the token's user
GET  /api/v1/macros, POST /api/v1/macros      canned answers (creating one needs an admin)
GET  /api/v1/users, POST /api/v1/users, PATCH /api/v1/users/<id>    accounts (admins)
GET  /api/v1/webhooks, POST /api/v1/webhooks, PATCH/DELETE /api/v1/webhooks/<id>   endpoints (admins)
GET  /api/v1/webhooks/deliveries?webhook=&limit=                    the delivery log (admins)
GET  /api/v1/openapi.json                     this API described (``kb_server.openapi``)

The articles (authoring) endpoints are in ``kb_server.views.articles_api``.

Each endpoint states the right it needs; the JSON answer of a refusal is 401 (no valid token)
or 403 (the role may not), and bad input is a 400 with the reason.
"""
import datetime as dt

from flask import Blueprint, jsonify, request

from kb_server import auth, openapi, webhooks
from kb_server.console.queue import ROW_ID_MAX
from kb_server.console import actions, detail, kcs, macros, queue, users
from kb_server.extensions import csrf, db
from kb_server.mail import conversation
from kb_server.jsonapi import APIError, int_arg, json_body, str_arg
from kb_server.models import User, Webhook
from kb_server.tickets import service

bp = Blueprint("tickets", __name__, url_prefix="/api/v1")
csrf.exempt(bp)   # token-authenticated, never the session cookie


def _ticket(reference: str):
    ticket = service.get_ticket(reference[:16])
    if ticket is None:
        raise APIError(f"no ticket {reference[:16]!r}", 404)
    return ticket


@bp.get("/tickets")
@auth.staff_api("tickets.view")
def list_tickets():
    filters = queue.parse_filters(request.args, strict=True, default_view="all")
    page, per_page = int_arg("page", 1, maximum=10_000), int_arg("per_page", 20)
    queue.refresh()
    tickets, total = queue.find(filters, auth.staff(), page, per_page)
    return jsonify({"tickets": [dict(t.to_dict(), sla_state=queue.sla_state(t)) for t in tickets],
                    "total": total, "page": page, "per_page": per_page,
                    "filters": filters.as_args()})


@bp.get("/tickets/counts")
@auth.staff_api("tickets.view")
def ticket_counts():
    return jsonify({"counts": queue.counts(auth.staff())})


@bp.get("/tickets/<reference>")
@auth.staff_api("tickets.view")
def get_ticket(reference: str):
    return jsonify({"ticket": detail.to_json(_ticket(reference))})


@bp.get(f"/tickets/<reference>/messages/<int(max={ROW_ID_MAX}):message_id>/files/<int(max=99):index>")
@auth.staff_api("tickets.view")
def ticket_attachment(reference: str, message_id: int, index: int):
    return conversation.download_attachment(_ticket(reference), message_id, index)


@bp.post("/tickets/<reference>/<action>")
@auth.staff_api("tickets.work")
def ticket_action(reference: str, action: str):
    ticket = _ticket(reference)
    params = json_body() if request.get_data(cache=True) else {}
    try:
        outcome = actions.perform(auth.staff(), ticket, action, params)
    except actions.ActionError as exc:
        response = jsonify({"error": exc.message, "status": exc.status,
                            **({"missing_facts": exc.missing} if exc.missing else {})})
        response.status_code = exc.status
        return response
    return jsonify({"outcome": outcome, "ticket": detail.to_json(ticket)})


@bp.get("/kcs/link-rate")
@auth.staff_api("tickets.view")
def kcs_link_rate():
    """The link rate, overall or of the tickets resolved in [since, until) (ISO dates)."""
    start, end = _date_arg("since"), _date_arg("until")
    return jsonify({"link_rate": kcs.link_rate(start, end),
                    "since": request.args.get("since") or None,
                    "until": request.args.get("until") or None})


def _date_arg(name: str):
    raw = str_arg(name, max_length=32)
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw.removesuffix("Z")).replace(tzinfo=None)
    except ValueError:
        raise APIError(f"'{name}' must be an ISO date or time (2026-12-01)") from None


@bp.get("/flags")
@auth.staff_api("flags.manage")
def list_flags():
    """Open article flags, grouped per article."""
    return jsonify({"articles": [
        {"article": row.article, "title": row.title, "count": len(row.flags),
         "reasons": row.reasons, "tickets": sorted(row.tickets.values()),
         "flags": [flag.to_dict() for flag in row.flags]} for row in kcs.open_flags()],
        "open": kcs.open_flag_count()})


@bp.post(f"/flags/<int(max={ROW_ID_MAX}):flag_id>/resolve")
@auth.staff_api("flags.manage")
def resolve_flag(flag_id: int):
    body = json_body()
    note = body.get("note", "")
    if not isinstance(note, str):
        raise APIError("'note' must be a string")
    try:
        flag = kcs.resolve_flag(flag_id, note, auth.staff())
    except kcs.KcsError as exc:
        raise APIError(exc.message, exc.status) from None
    return jsonify({"flag": flag.to_dict()})


@bp.get("/me")
@auth.staff_api("tokens.own")
def me():
    return jsonify({"user": auth.staff().to_dict()})


@bp.get("/macros")
@auth.staff_api("tickets.view")
def list_macros():
    return jsonify({"macros": [m.to_dict() for m in macros.all_macros()]})


@bp.post("/macros")
@auth.staff_api("macros.manage")
def create_macro():
    body = json_body()
    try:
        macro = macros.save(auth.staff(), str(body.get("name", "")), str(body.get("body", "")))
    except macros.MacroError as exc:
        db.session.rollback()
        raise APIError(str(exc)) from None
    return jsonify({"macro": macro.to_dict()}), 201


@bp.get("/users")
@auth.staff_api("users.manage")
def list_users():
    return jsonify({"users": [u.to_dict() for u in users.all_users()]})


def _line(value):
    if value in (None, ""):
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise APIError("'line' must be an integer 1-4")
    return value


@bp.post("/users")
@auth.staff_api("users.manage")
def create_user():
    body = json_body()
    try:
        user = users.add_user(auth.staff(), str(body.get("email", "")), str(body.get("role", "")),
                              str(body.get("password", "")), line=_line(body.get("line")),
                              name=str(body.get("name", "")))
    except users.UserError as exc:
        db.session.rollback()
        raise APIError(str(exc)) from None
    return jsonify({"user": user.to_dict()}), 201


@bp.patch(f"/users/<int(max={ROW_ID_MAX}):user_id>")
@auth.staff_api("users.manage")
def update_user(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        raise APIError(f"no user {user_id}", 404)
    body = json_body()
    active = body.get("active")
    if active is not None and not isinstance(active, bool):
        raise APIError("'active' must be true or false")
    for name in ("role", "name", "password"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise APIError(f"'{name}' must be a string")
    try:
        users.update_user(auth.staff(), user, role=body.get("role") or None,
                          line=_line(body.get("line")), name=body.get("name"), active=active,
                          password=body.get("password") or None)
    except users.UserError as exc:
        db.session.rollback()
        raise APIError(str(exc)) from None
    return jsonify({"user": user.to_dict()})


def _webhook(webhook_id: int) -> Webhook:
    hook = db.session.get(Webhook, webhook_id)
    if hook is None:
        raise APIError(f"no webhook {webhook_id}", 404)
    return hook


def _save_webhook(fields: dict, hook: Webhook | None = None):
    try:
        return webhooks.save(auth.staff(), fields, hook)
    except webhooks.WebhookError as exc:
        db.session.rollback()
        raise APIError(str(exc)) from None


@bp.get("/webhooks")
@auth.staff_api("webhooks.manage")
def list_webhooks():
    return jsonify({"webhooks": [hook.to_dict() for hook in webhooks.endpoints()]})


@bp.post("/webhooks")
@auth.staff_api("webhooks.manage")
def create_webhook():
    hook, secret = _save_webhook(json_body())
    return jsonify({"webhook": hook.to_dict(), "secret": secret}), 201


@bp.patch(f"/webhooks/<int(max={ROW_ID_MAX}):webhook_id>")
@auth.staff_api("webhooks.manage")
def update_webhook(webhook_id: int):
    hook, _ = _save_webhook(json_body(), _webhook(webhook_id))
    return jsonify({"webhook": hook.to_dict()})


@bp.delete(f"/webhooks/<int(max={ROW_ID_MAX}):webhook_id>")
@auth.staff_api("webhooks.manage")
def delete_webhook(webhook_id: int):
    webhooks.delete(auth.staff(), _webhook(webhook_id))
    return jsonify({"deleted": webhook_id})


@bp.get("/webhooks/deliveries")
@auth.staff_api("webhooks.manage")
def webhook_deliveries():
    webhook_id = int_arg("webhook", 0, minimum=0, maximum=ROW_ID_MAX) or None
    rows = webhooks.recent_deliveries(int_arg("limit", 100, maximum=500), webhook_id)
    return jsonify({"deliveries": [row.to_dict() for row in rows]})


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document())
