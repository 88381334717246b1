"""The staff console (``/console``): login, the queue, the ticket page and its actions, users,
canned answers, webhooks, one's API tokens and the flagged articles (KCS). Server-rendered
pages; every form carries a CSRF token (``CSRFProtect``); every page checks the role (``auth.staff_page``); logins are throttled per
client and per account (``RATELIMIT_LOGIN``).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_login import login_user, logout_user

from kb_server import audit, auth, i18n, webhooks
from kb_server.console.queue import ROW_ID_MAX
from kb_server.console import actions, detail, history, kcs, macros, queue, strings, users
from kb_server.extensions import db, limiter
from kb_server.mail import conversation, outbound
from kb_server.models import Ticket, Webhook, utcnow
from kb_server.models.integrations import WEBHOOK_EVENTS
from kb_server.models.kcs import FLAG_REASONS
from kb_server.models.staff import ROLES
from kb_server.models.tickets import LINES, PENDING_REASONS, STATUSES
from kb_server.tickets import facts, service, sla

bp = Blueprint("console", __name__, url_prefix="/console")
PER_PAGE = 50


@bp.context_processor
def _context() -> dict:
    return {**strings.template_context(), "can": auth.can, "fact_label": facts.label,
            "sla_state": queue.sla_state, "next_due": queue.next_due,
            "answers_nobody": sla.ANSWERS_NOBODY}


# template filters that are the console's own functions, under the names the templates use
for _name, _filter in {"when": strings.when, "class_label": strings.class_label,
                       "suggestion_reason": strings.suggestion_reason,
                       "ticket_subject": strings.ticket_subject, "ago": strings.ago,
                       "described": history.describe, "action_label": history.action_label,
                       "revision_note": strings.shown_note}.items():
    bp.add_app_template_filter(_filter, _name)


@bp.app_template_filter("zip_labels")
def _zip_labels(values, prefix: str):
    return [(value, strings.translate(prefix + value)) for value in values]


@bp.app_template_filter("zip_class_labels")
def _zip_class_labels(values):
    return [(value, strings.class_label(value)) for value in values]


@bp.app_template_filter("utc")
def _utc(moment):
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


@bp.after_request
def _after(response):
    response.headers["Cache-Control"] = "no-store"      # staff data stays out of caches
    return i18n.remember_choice(response)


@bp.errorhandler(403)
def _forbidden(_exc):
    return error_page("forbidden"), 403


def error_page(message_key: str) -> str:
    """The console's error page saying ``message_key`` (also for a URL under /console that no
    route knows: its context is given here, the blueprint's processor does not run then)."""
    return render_template("console/error.html", message=strings.translate(message_key), **_context())


def _login_limit():
    return current_app.config["RATELIMIT_LOGIN"]


def _login_account() -> str:
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no open redirect)."""
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and target.startswith("/"):
        return target
    return url_for("console.queue_page")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_account, scope="login-account")
def login():
    error = None
    if request.method == "POST":
        user = auth.authenticate(request.form.get("email", "")[:254],
                                 request.form.get("password", "")[:1024])
        if user is not None:
            login_user(user)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        error = strings.translate("bad_login")
    no_accounts = db.session.query(users.User.id).first() is None   # a fresh instance: say how
    return render_template("console/login.html", error=error, no_accounts=no_accounts), \
        401 if error else 200


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("console.login"))


# --- queue -------------------------------------------------------------------------------------
@bp.get("/")
@auth.staff_page("tickets.view")
def queue_page():
    user = auth.staff()
    default_view = "line" if user.role == "agent" else "open"
    filters = queue.parse_filters(request.args, strict=False, default_view=default_view)
    queue.refresh()
    try:
        page = max(1, min(int(request.args.get("page", 1)), 1000))
    except ValueError:
        page = 1
    tickets, total = queue.find(filters, user, page, PER_PAGE)
    assignees = {u.id: u for u in users.agents()}
    return render_template(
        "console/queue.html", filters=filters, tickets=tickets, total=total, page=page,
        pages=max(1, -(-total // PER_PAGE)), counts=queue.counts(user), views=queue.VIEWS,
        statuses=STATUSES, classes=queue.request_classes(), priorities=sla.priorities(),
        lines=LINES, facets=queue.facet_values(), assignees=assignees, sorts=queue.SORTS,
        sla_states=queue.SLA_STATES, link_rate=kcs.link_rate(), now=utcnow())


# --- ticket ------------------------------------------------------------------------------------
def _ticket_or_404(reference: str) -> Ticket:
    ticket = service.get_ticket(reference[:16])
    if ticket is None:
        abort(404)
    return ticket


@bp.get(f"/t/<reference>/messages/<int(max={ROW_ID_MAX}):message_id>/files/<int(max=99):index>")
@auth.staff_page("tickets.view")
def attachment(reference: str, message_id: int, index: int):
    """A file the user sent with a message (``conversation.download_attachment``)."""
    return conversation.download_attachment(_ticket_or_404(reference), message_id, index)


@bp.get("/t/<reference>")
@auth.staff_page("tickets.view")
def ticket_page(reference: str):
    ticket = _ticket_or_404(reference)
    user = auth.staff()
    find = request.args.get("find", "").strip()[:200]
    info = detail.detail(ticket)
    found = detail.find_articles(find, ticket.language) if find else []
    return render_template(
        "console/ticket.html", ticket=ticket, info=info, find=find, found=found,
        flag_reasons=FLAG_REASONS, flag_candidates=_flag_candidates(info, found),
        can_work=auth.can_work(user, ticket), statuses=STATUSES, lines=LINES,
        pending_reasons=PENDING_REASONS, classes=queue.request_classes(),
        priorities=sla.priorities(), agents=[a for a in users.agents() if auth.can_work(a, ticket)],
        macros=[(m, macros.render(m.body, ticket, user)) for m in macros.all_macros()],
        mail_mode=outbound.delivery_mode(), now=utcnow())


def _flag_candidates(info: dict, found: list[dict]) -> list[tuple[str, str]]:
    """The articles a ticket page offers to flag: linked, suggested and found ones (id, title)."""
    candidates = {link.article_id: link.title or link.article_id for link in info["links"]}
    for hit in info["suggestions"] + found:
        candidates.setdefault(hit["id"], hit["title"])
    return list(candidates.items())


@bp.post("/t/<reference>/<action>")
@auth.staff_page("tickets.work")
def ticket_action(reference: str, action: str):
    ticket = _ticket_or_404(reference)
    try:
        outcome = actions.perform(auth.staff(), ticket, action, request.form)
    except actions.ActionError as exc:
        if exc.status == 403:
            abort(403)
        if exc.status == 404 and action not in actions.ACTIONS:
            abort(404)
        flash(strings.say(exc), "error")
    else:
        flash(strings.say(outcome), "success")
    return redirect(url_for("console.ticket_page", reference=ticket.reference))


# --- flagged articles (KCS) -----------------------------------------------------------------------
@bp.get("/flags")
@auth.staff_page("flags.manage")
def flags_page():
    flagged = kcs.open_flags()
    return render_template("console/flags.html", flagged=flagged,
                           open_count=sum(len(row.flags) for row in flagged),
                           history=audit.recent("flag"), now=utcnow())


@bp.post(f"/flags/<int(max={ROW_ID_MAX}):flag_id>/resolve")
@auth.staff_page("flags.manage")
def resolve_flag(flag_id: int):
    try:
        flag = kcs.resolve_flag(flag_id, request.form.get("note", ""), auth.staff())
    except kcs.KcsError as exc:
        if exc.status == 404:
            abort(404)
        flash(strings.say(exc), "error")
    else:
        flash(f"{flag.article_id}: {strings.translate('flag_resolved')}", "success")
    return redirect(url_for("console.flags_page"))


# --- users -------------------------------------------------------------------------------------
def _line_field() -> int | None:
    raw = request.form.get("line", "")
    return int(raw) if raw.isdigit() else None


@bp.get("/users")
@auth.staff_page("users.manage")
def users_page():
    return render_template("console/users.html", users=users.all_users(), roles=ROLES,
                           lines=LINES, history=audit.recent("user"))


@bp.post("/users")
@auth.staff_page("users.manage")
def add_user():
    form = request.form
    try:
        user = users.add_user(auth.staff(), form.get("email", ""), form.get("role", ""),
                              form.get("password", ""), line=_line_field(),
                              name=form.get("name", ""))
        flash(f"{user.email}: {strings.translate('done')}", "success")
    except users.UserError as exc:
        flash(strings.say(exc), "error")
    return redirect(url_for("console.users_page"))


@bp.post(f"/users/<int(max={ROW_ID_MAX}):user_id>")
@auth.staff_page("users.manage")
def update_user(user_id: int):
    user = db.session.get(users.User, user_id) or abort(404)
    form = request.form
    try:
        users.update_user(auth.staff(), user, role=form.get("role") or None, line=_line_field(),
                          name=form.get("name"), active=form.get("active") == "on",
                          password=form.get("password") or None)
        flash(f"{user.email}: {strings.translate('done')}", "success")
    except users.UserError as exc:
        db.session.rollback()
        flash(strings.say(exc), "error")
    return redirect(url_for("console.users_page"))


# --- my account: tokens ------------------------------------------------------------------------
@bp.get("/account")
@auth.staff_page("tokens.own")
def account_page():
    return render_template("console/account.html", tokens=users.tokens(auth.staff()), new_token=None)


@bp.post("/account/tokens")
@auth.staff_page("tokens.own")
def create_token():
    user = auth.staff()
    token = users.new_token(user, user, request.form.get("name", "")[:100])
    return render_template("console/account.html", tokens=users.tokens(user), new_token=token)


@bp.post(f"/account/tokens/<int(max={ROW_ID_MAX}):token_id>/revoke")
@auth.staff_page("tokens.own")
def revoke_token(token_id: int):
    try:
        users.revoke_token(auth.staff(), auth.staff(), token_id)
    except users.UserError:
        abort(404)
    return redirect(url_for("console.account_page"))


# --- canned answers ----------------------------------------------------------------------------
@bp.get("/macros")
@auth.staff_page("macros.manage")
def macros_page():
    return render_template("console/macros.html", macros=macros.all_macros(),
                           placeholders=macros.PLACEHOLDERS)


@bp.post("/macros")
@bp.post(f"/macros/<int(max={ROW_ID_MAX}):macro_id>")
@auth.staff_page("macros.manage")
def save_macro(macro_id: int | None = None):
    macro = macros.get(macro_id) if macro_id else None
    if macro_id and macro is None:
        abort(404)
    try:
        macros.save(auth.staff(), request.form.get("name", ""), request.form.get("body", ""), macro)
    except macros.MacroError as exc:
        db.session.rollback()
        flash(strings.say(exc), "error")
    return redirect(url_for("console.macros_page"))


@bp.post(f"/macros/<int(max={ROW_ID_MAX}):macro_id>/delete")
@auth.staff_page("macros.manage")
def delete_macro(macro_id: int):
    macro = macros.get(macro_id) or abort(404)
    macros.delete(auth.staff(), macro)
    return redirect(url_for("console.macros_page"))


# --- webhooks ----------------------------------------------------------------------------------
def _webhooks_page(new_secret: str | None = None, status: int = 200):
    hooks = webhooks.endpoints()
    return render_template("console/webhooks.html", hooks=hooks, endpoints={h.id: h for h in hooks},
                           deliveries=webhooks.recent_deliveries(), events=WEBHOOK_EVENTS,
                           history=audit.recent("webhook"), new_secret=new_secret,
                           now=utcnow()), status


def _webhook_form(new: bool) -> dict:
    form = request.form
    fields = {"url": form.get("url", ""), "events": form.getlist("events"),
              "description": form.get("description", ""), "secret": form.get("secret", "")}
    if not new:
        fields["active"] = form.get("active") == "on"
    return fields


@bp.get("/webhooks")
@auth.staff_page("webhooks.manage")
def webhooks_page():
    return _webhooks_page()


@bp.post("/webhooks")
@auth.staff_page("webhooks.manage")
def add_webhook():
    try:
        _hook, secret = webhooks.save(auth.staff(), _webhook_form(new=True))
    except webhooks.WebhookError as exc:
        db.session.rollback()
        flash(strings.say(exc), "error")
        return redirect(url_for("console.webhooks_page"))
    flash(strings.translate("done"), "success")
    return _webhooks_page(new_secret=secret)


@bp.post(f"/webhooks/<int(max={ROW_ID_MAX}):webhook_id>")
@auth.staff_page("webhooks.manage")
def update_webhook(webhook_id: int):
    hook = db.session.get(Webhook, webhook_id) or abort(404)
    try:
        webhooks.save(auth.staff(), _webhook_form(new=False), hook)
        flash(strings.translate("done"), "success")
    except webhooks.WebhookError as exc:
        db.session.rollback()
        flash(strings.say(exc), "error")
    return redirect(url_for("console.webhooks_page"))


@bp.post(f"/webhooks/<int(max={ROW_ID_MAX}):webhook_id>/delete")
@auth.staff_page("webhooks.manage")
def delete_webhook(webhook_id: int):
    webhooks.delete(auth.staff(), db.session.get(Webhook, webhook_id) or abort(404))
    return redirect(url_for("console.webhooks_page"))


from kb_server.views import console_articles  # noqa: E402,F401  (authoring routes on this blueprint)
