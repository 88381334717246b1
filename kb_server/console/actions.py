"""Everything staff do to a ticket, for the console and the staff API alike.

``perform(actor, ticket, name, params)`` checks the actor may work on the ticket, runs the
action, records the change in the audit trail (the ticket's fields before and after) and
commits. ``params`` is a flat mapping (a form, or a JSON object); an action that cannot be
done raises ``ActionError`` with a message for the user (and an HTTP status).

Incidents (``tickets.incidents``): ``resolve-incident`` resolves an incident and its linked
tickets, answering each user in their ticket's language; ``notice`` / ``end-notice`` publish and end the
incident's notice to users. Changing a ticket's class records a correction (``tickets.corrections``).

Statuses: new -> open -> pending (on the user or a third party) -> resolved -> closed; a
resolved or closed ticket can be reopened. Escalation moves a ticket to a higher support line
with a required reason, once the facts its class requires are known (``tickets.facts``); line
4 (outside the organisation) also records the outside party and its reference.

KCS (``console.kcs``): ``resolve-with-article`` (linked, sent to the user, resolved), ``link``
and ``flag`` (needs ``articles.flag``); their audit entries name the article (``Outcome``).
"""
from __future__ import annotations

from typing import Callable, Mapping

from sqlalchemy import distinct, func, select, update

from kb_server import audit, webhooks
from kb_server.auth import can, can_work
from kb_server.console import kcs, macros, queue
from kb_server.console.strings import STRINGS, Said, SaidError, fill, english
from kb_server.extensions import db
from kb_server.mail import conversation, outbound
from kb_server.models import Ticket, TicketMessage, TicketSignal, User, utcnow
from kb_server.models.tickets import LINES, OPEN_STATUSES, PENDING_REASONS, STATUSES
from kb_server.tickets import classify, corrections, facts, incidents, sla, sla_watch
from indexer.languages import LANGUAGES

MAX_TEXT = 20_000
MAX_FIELD = 200
AUDITED = ("status", "line", "request_class", "priority", "assignee_id", "pending_reason",
           "facts", "outside_party", "outside_reference", "merged_into_id",
           "first_response_at", "resolved_at", "sla_first_response_due", "sla_resolution_due")
OFF = ("0", "false", "off", "no")
TRANSITIONS = {
    "new": ("open", "pending", "resolved", "closed"),
    "open": ("pending", "resolved", "closed"),
    "pending": ("open", "resolved", "closed"),
    "resolved": ("open", "closed"),
    "closed": ("open",),
}


class Outcome(Said, str):
    """What an action did (a ``Said`` message: ``key`` of ``console.strings`` and its
    ``values``), with ``details`` the audit entry also records (e.g. the article linked), for
    actions whose effect is not a change of the ticket's fields."""

    def __new__(cls, key: str, details: dict | None = None, **values):
        outcome = super().__new__(cls, english(key, values))
        outcome._said(key, values)
        outcome.details = details or {}
        return outcome


class ActionError(SaidError):
    def __init__(self, key: str, status: int = 400, missing: list[str] | None = None, **values):
        super().__init__(key, **values)
        self.status, self.missing = status, missing or []


# --- parameters --------------------------------------------------------------------------------
def _text(params: Mapping, name: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    value = params.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ActionError("err_not_text", name=name)
    value = value.strip()
    if required and not value:
        raise ActionError("err_required", name=name)
    if len(value) > limit:
        raise ActionError("err_too_long", name=name, limit=limit)
    return value


def _line(params: Mapping, default: int) -> int:
    raw = params.get("line", "")
    if raw in ("", None):
        return default
    try:
        line = int(raw)
    except (TypeError, ValueError):
        raise ActionError("err_line") from None
    if line not in LINES:
        raise ActionError("err_line")
    return line


def _facts_from(params: Mapping) -> dict[str, str]:
    """Facts given as ``facts`` (a JSON object) or as ``fact_<name>`` form fields."""
    given = params.get("facts")
    found = dict(given) if isinstance(given, Mapping) else {}
    found.update({key[5:]: value for key, value in params.items() if key.startswith("fact_")})
    clean = {}
    for name, value in found.items():
        if not isinstance(value, str) or len(value) > facts.MAX_FACT_LENGTH or len(name) > 64:
            raise ActionError("err_fact", name=name, limit=facts.MAX_FACT_LENGTH)
        if value.strip():
            clean[name] = value.strip()
    return clean


def _add_message(ticket: Ticket, actor: User, kind: str, body: str = "", **data) -> TicketMessage:
    message = TicketMessage(ticket_id=ticket.id, kind=kind, author_id=actor.id,
                            author=actor.display_name, body=body, data=data, created_at=utcnow())
    db.session.add(message)
    db.session.flush()
    return message


def _set_status(ticket: Ticket, status: str, pending_reason: str = "") -> None:
    if status not in STATUSES:
        raise ActionError("err_status", statuses=", ".join(STATUSES))
    if status != ticket.status and status not in TRANSITIONS[ticket.status]:
        raise ActionError("err_transition", 409, before=ticket.status, after=status)
    if status == "pending" and pending_reason not in PENDING_REASONS:
        raise ActionError("err_pending_reason")
    ticket.status = status
    ticket.pending_reason = pending_reason if status == "pending" else ""
    if status == "resolved":
        ticket.resolved_at = utcnow()
    elif status in OPEN_STATUSES:
        ticket.resolved_at = None


def _status_label(status: str):
    """A status as people read it, in any language (for a ``Said`` value)."""
    return lambda language: STRINGS[f"status_{status}"][language].lower()


def _fact_labels(names: list[str]):
    """Facts' labels, in any language (for a ``Said`` value)."""
    return lambda language: ", ".join(facts.label(name, language) for name in names)


# --- actions -----------------------------------------------------------------------------------
def take(actor: User, ticket: Ticket, params: Mapping) -> str:
    ticket.assignee_id = actor.id
    if ticket.status == "new":
        ticket.status = "open"
    return Outcome("said_taken")


def assign(actor: User, ticket: Ticket, params: Mapping) -> str:
    raw = str(params.get("assignee") or "").strip()
    if raw in ("", "none"):
        ticket.assignee_id = None
        return Outcome("said_unassigned")
    assignee_id = queue.row_id(raw)
    assignee = db.session.get(User, assignee_id) if assignee_id else None
    if assignee is None or not can_work(assignee, ticket):
        raise ActionError("err_assignee")
    ticket.assignee_id = assignee.id
    return Outcome("said_assigned", name=assignee.display_name)


def reply(actor: User, ticket: Ticket, params: Mapping) -> str:
    """A reply to the user: kept in the conversation and e-mailed (``conversation``); a reply
    that resolves the ticket carries the satisfaction rating links unless ``rating`` is off."""
    if not ticket.email:
        raise ActionError("err_no_email_reply", 409)
    body = _text(params, "body")
    macro = macros.get(params.get("macro", ""))
    if not body and macro is not None:
        body = macros.render(macro.body, ticket, actor)
    if not body:
        raise ActionError("err_required", name="body")
    status = _text(params, "status", limit=16)
    if status:
        _set_status(ticket, status, _text(params, "pending_reason", limit=16))
    elif ticket.status == "new":
        ticket.status = "open"
    rating = status == "resolved" and _on(params, "rating", True)
    conversation.reply_to_user(ticket, body, staff=actor, rating=rating,
                               **({"macro": macro.name} if macro else {}))
    return _delivered()


def _on(params: Mapping, name: str, default: bool) -> bool:
    """A yes/no parameter (form checkbox "on", JSON true, "0"/"false"/"off"/"no" for no)."""
    raw = params.get(name)
    if raw in (None, ""):
        return default
    return str(raw).lower() not in OFF


def _delivered() -> Outcome:
    """What became of a reply: e-mail is sent by a background job (``jobs``), so it is queued."""
    return Outcome("said_queued_outbox" if outbound.delivery_mode() == "outbox" else "said_queued")


def note(actor: User, ticket: Ticket, params: Mapping) -> str:
    _add_message(ticket, actor, "note", _text(params, "body", required=True))
    return Outcome("said_note_added")


def classify_ticket(actor: User, ticket: Ticket, params: Mapping) -> str:
    request_class = _text(params, "request_class", limit=40) or ticket.request_class
    priority = _text(params, "priority", limit=8) or ticket.priority
    if request_class not in [c["name"] for c in classify.classes()]:
        raise ActionError("err_class", name=request_class)
    if priority not in sla.priorities():
        raise ActionError("err_priority", priorities=", ".join(sla.priorities()))
    corrections.record(ticket, request_class, actor.id)
    ticket.request_class, ticket.priority = request_class, priority
    return Outcome("said_classified")


def set_status(actor: User, ticket: Ticket, params: Mapping) -> str:
    _set_status(ticket, _text(params, "status", required=True, limit=16),
                _text(params, "pending_reason", limit=16))
    return Outcome("said_status", status=_status_label(ticket.status))


def reopen(actor: User, ticket: Ticket, params: Mapping) -> str:
    if ticket.status not in ("resolved", "closed"):
        raise ActionError("err_reopen", 409)
    _set_status(ticket, "open")
    return Outcome("said_reopened")


def record_facts(actor: User, ticket: Ticket, params: Mapping) -> str:
    given = _facts_from(params)
    if not given:      # blank fields change nothing: no "facts saved", nothing audited
        raise ActionError("err_no_facts")
    ticket.facts = {**(ticket.facts or {}), **given}
    return Outcome("said_facts_saved")


def escalate(actor: User, ticket: Ticket, params: Mapping) -> str:
    """To the next line (or ``line``), with a reason and the facts the class requires."""
    target = _line(params, min(ticket.line + 1, max(LINES)))
    if target <= ticket.line:
        raise ActionError("err_escalate_up", line=ticket.line)
    reason = _text(params, "reason", required=True, limit=MAX_TEXT)
    ticket.facts = {**(ticket.facts or {}), **_facts_from(params)}
    missing = facts.missing(ticket.request_class, ticket.facts)
    if missing:
        raise ActionError("err_missing_facts", missing=missing, facts=_fact_labels(missing))
    data = {"from": ticket.line, "to": target, "reason": reason}
    if target == 4:
        ticket.outside_party = _text(params, "outside_party", required=True, limit=MAX_FIELD)
        ticket.outside_reference = _text(params, "outside_reference", required=True, limit=MAX_FIELD)
        data.update(outside_party=ticket.outside_party, outside_reference=ticket.outside_reference)
    _add_message(ticket, actor, "escalation", reason, **data)
    ticket.line, ticket.assignee_id = target, None
    if ticket.status == "new":
        ticket.status = "open"
    return Outcome("said_escalated", line=target)


def deescalate(actor: User, ticket: Ticket, params: Mapping) -> str:
    target = _line(params, max(ticket.line - 1, min(LINES)))
    if target >= ticket.line:
        raise ActionError("err_escalate_down", line=ticket.line)
    reason = _text(params, "reason", required=True)
    _add_message(ticket, actor, "escalation", reason, **{"from": ticket.line, "to": target,
                                                        "reason": reason})
    ticket.line, ticket.assignee_id = target, None
    return Outcome("said_returned", line=target)


def merge(actor: User, ticket: Ticket, params: Mapping) -> str:
    """Merge this ticket into ``into`` (a duplicate): its conversation, context, signals and
    linked articles move over; this one is closed and points at the other."""
    reference = _text(params, "into", required=True, limit=16).upper()
    target = db.session.scalar(select(Ticket).filter_by(reference=reference))
    if target is None:
        raise ActionError("err_no_ticket", 404, reference=reference)
    if target.id == ticket.id or target.merged_into_id or target.status not in OPEN_STATUSES:
        raise ActionError("err_no_merge", 409, reference=reference)
    if not can_work(actor, target):
        raise ActionError("err_may_not_work", 403, reference=reference)
    before = audit.snapshot(target, ("context", "gap", "gap_users"))
    db.session.execute(update(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
                       .values(ticket_id=target.id))
    db.session.execute(update(TicketSignal).where(TicketSignal.ticket_id == ticket.id)
                       .values(ticket_id=target.id))
    kcs.move_links(ticket, target)
    target.context = {**(target.context or {}), "merged": [
        *(target.context or {}).get("merged", []), _merged_summary(ticket)]}
    if ticket.kind == "gap" and target.kind == "gap":
        _merge_gap(target, ticket)
    _add_message(target, actor, "system", str(Outcome("said_merged_in", reference=ticket.reference)),
                 merged=ticket.reference, said="said_merged_in")
    audit.record(actor, "ticket", target.reference, "merge_in", before,
                 audit.snapshot(target, ("context", "gap", "gap_users")))
    target.updated_at = utcnow()
    webhooks.emit("ticket.updated", target, {"action": "merge_in", "merged": ticket.reference,
                                             "by": actor.email})
    ticket.merged_into_id, ticket.status, ticket.pending_reason = target.id, "closed", ""
    return Outcome("said_merged_into", reference=target.reference)


def _merged_summary(ticket: Ticket) -> dict:
    return {"reference": ticket.reference, "kind": ticket.kind, "subject": ticket.subject,
            "message": ticket.message, "email": ticket.email, "name": ticket.name,
            "page_url": ticket.page_url, "language": ticket.language,
            "context": ticket.context or {}, "gap": ticket.gap_dict(),
            "created_at": audit._plain(ticket.created_at)}


def _merge_gap(target: Ticket, source: Ticket) -> None:
    gap = {key: (value.copy() if hasattr(value, "copy") else value)
           for key, value in (target.gap or {}).items()}
    for key, value in (source.gap or {}).items():
        if isinstance(value, dict) and all(isinstance(v, int) for v in value.values()):
            counter = gap.setdefault(key, {})
            for name, count in value.items():
                counter[name] = counter.get(name, 0) + count
        elif isinstance(value, list):
            gap[key] = list(dict.fromkeys([*gap.get(key, []), *value]))
    target.gap = gap
    target.gap_users = db.session.scalar(select(func.count(distinct(TicketSignal.session_id)))
                                         .where(TicketSignal.ticket_id == target.id)) or 0
    firsts = [t for t in (target.gap_first_seen, source.gap_first_seen) if t]
    lasts = [t for t in (target.gap_last_seen, source.gap_last_seen) if t]
    target.gap_first_seen = min(firsts) if firsts else None
    target.gap_last_seen = max(lasts) if lasts else None


# --- KCS: the knowledge base (``console.kcs``) ----------------------------------------------------
def _article(params: Mapping, public: bool = True):
    try:
        return kcs.find_article(params.get("article", ""), public=public)
    except kcs.KcsError as exc:
        raise ActionError(exc.key or exc.message, exc.status, **exc.values) from None


def resolve_with_article(actor: User, ticket: Ticket, params: Mapping) -> str:
    """Resolve with an existing article: linked (``resolved_with``), sent to the user in a
    reply (its title and absolute link, after the agent's optional ``body``; with the rating
    links unless ``rating`` is off), status resolved. A gap ticket has no user to reply to:
    with ``notify`` the users who left an e-mail on the gap get the article instead."""
    article = _article(params)
    intro = _text(params, "body")
    if ticket.kind != "gap" and not ticket.email:
        raise ActionError("err_no_email_article", 409)
    _set_status(ticket, "resolved")
    if ticket.kind == "gap":
        notified = kcs.answer_gap(ticket, article, actor, notify=_on(params, "notify", False))
        if notified:
            return Outcome("said_resolved_with_notified", {"article": article.id, "notified": notified},
                           article=article.id, n=len(notified))
        return Outcome("said_resolved_with", {"article": article.id}, article=article.id)
    version = kcs.version_for(article, ticket.language)
    kcs.link_indexed(ticket, version, "resolved_with", actor)
    conversation.reply_to_user(ticket, kcs.reply_text(version, ticket.language, intro),
                               staff=actor, rating=_on(params, "rating", True), article=version.id)
    delivered = _delivered()
    return Outcome("said_resolved_with_sent", {"article": version.id}, article=version.id,
                   delivery=lambda language: fill(delivered.key, language, {}))


def link(actor: User, ticket: Ticket, params: Mapping) -> str:
    """Link an article to the ticket without resolving it (``relation``, default referenced)."""
    article = _article(params, public=False)
    relation = _text(params, "relation", limit=16) or "referenced"
    try:
        kcs.link_indexed(ticket, article, relation, actor)
    except kcs.KcsError as exc:
        raise ActionError(exc.key or exc.message, exc.status, **exc.values) from None
    return Outcome("said_linked", {"article": article.id, "relation": relation}, article=article.id)


def flag(actor: User, ticket: Ticket, params: Mapping) -> str:
    """Flag an article as wrong, outdated or missing information, with a comment."""
    article = _article(params, public=False)
    try:
        flagged = kcs.flag_article(ticket, article, _text(params, "reason", limit=16),
                                   _text(params, "comment"), actor)
    except kcs.KcsError as exc:
        raise ActionError(exc.key or exc.message, exc.status, **exc.values) from None
    _add_message(ticket, actor, "note", f"⚑ {article.title} ({article.id}), {flagged.reason}: "
                 f"{flagged.comment}", flag=flagged.id, article=article.id, reason=flagged.reason)
    return Outcome("said_flagged", {"article": article.id, "flag": flagged.reason}, article=article.id)


def _incident(ticket: Ticket) -> Ticket:
    if ticket.kind != "incident":
        raise ActionError("err_not_incident", 409)
    return ticket


def resolve_incident(actor: User, ticket: Ticket, params: Mapping) -> str:
    """Resolve the incident and every open ticket linked to it; each user with an e-mail gets
    the answer in their ticket's language as a reply (the ``reply`` action, audited per ticket):
    ``body_en``, ``body_ru``, ``body_uk`` (or ``bodies``, an object by language), ``body`` for a
    language without its own; every language of the users answered needs a text."""
    _incident(ticket)
    if ticket.status not in OPEN_STATUSES:
        raise ActionError("err_incident_closed", 409)
    bodies = _bodies(params)
    open_linked = [t for t in incidents.linked_tickets(ticket)
                   if t.status in OPEN_STATUSES and not t.merged_into_id]
    missing = [lang for lang in incidents.reply_languages(open_linked) if lang not in bodies]
    if missing:
        raise ActionError("err_answer_languages", fields=", ".join(f"body_{lang}" for lang in missing))
    answered = resolved = 0
    for linked in open_linked:
        name, fields = ("reply", {"body": bodies[incidents.reply_language(linked)],
                                  "status": "resolved"}) if linked.email else \
            ("status", {"status": "resolved"})
        try:
            perform(actor, linked, name, fields)
        except ActionError:       # a linked ticket this actor may not work: left as it is
            continue
        resolved += 1
        answered += name == "reply"
    _add_message(ticket, actor, "note", "\n\n".join(
        text if len(bodies) == 1 else f"[{lang}] {text}" for lang, text in bodies.items()))
    incidents.end_notices(ticket)
    _set_status(ticket, "resolved")
    return Outcome("said_incident_resolved", resolved=resolved, answered=answered)


def _bodies(params: Mapping) -> dict[str, str]:
    """The incident's answer per language (``body_<lang>`` or ``bodies``; ``body`` for the rest)."""
    given = params.get("bodies") if isinstance(params.get("bodies"), Mapping) else {}
    common = _text(params, "body")
    bodies = {}
    for language in LANGUAGES:
        text = _text({"body": given.get(language, params.get(f"body_{language}", ""))}, "body")
        if text or common:
            bodies[language] = text or common
    if not bodies:
        raise ActionError("err_answer_required")
    return bodies


def notice(actor: User, ticket: Ticket, params: Mapping) -> str:
    """Publish the incident's notice: ``text_en``, ``text_ru``, ``text_uk`` (or ``texts``, an
    object by language); at least one."""
    _incident(ticket)
    given = params.get("texts") if isinstance(params.get("texts"), Mapping) else {}
    texts = {}
    for language in LANGUAGES:
        value = given.get(language, params.get(f"text_{language}", ""))
        text = _text({"text": value}, "text", limit=incidents.NOTICE_CHARS)
        if text:
            texts[language] = text
    if not texts:
        raise ActionError("err_notice_text")
    if ticket.status not in OPEN_STATUSES:
        raise ActionError("err_incident_closed", 409)
    incidents.publish_notice(ticket, texts, actor.id)
    return Outcome("said_notice_published")


def end_notice(actor: User, ticket: Ticket, params: Mapping) -> str:
    _incident(ticket)
    return Outcome("said_notice_ended" if incidents.end_notices(ticket) else "said_no_notice")


ACTIONS: dict[str, Callable[[User, Ticket, Mapping], str]] = {
    "take": take, "assign": assign, "reply": reply, "note": note, "classify": classify_ticket,
    "status": set_status, "reopen": reopen, "facts": record_facts, "escalate": escalate,
    "deescalate": deescalate, "merge": merge,
    "resolve-with-article": resolve_with_article, "link": link, "flag": flag,
    "resolve-incident": resolve_incident, "notice": notice, "end-notice": end_notice,
}
RIGHTS = {"flag": "articles.flag"}   # actions needing a right besides tickets.work


def perform(actor: User, ticket: Ticket, name: str, params: Mapping) -> str:
    """Run action ``name`` as ``actor``, audited and committed; returns what happened."""
    action = ACTIONS.get(name)
    if action is None:
        raise ActionError("err_no_action", 404, name=name)
    if not can_work(actor, ticket):
        raise ActionError("err_line_rights", 403, line=ticket.line)
    if name in RIGHTS and not can(actor, RIGHTS[name]):
        raise ActionError("err_role_rights", 403, role=actor.role)
    if ticket.merged_into_id is not None:
        raise ActionError("err_merged", 409)
    before = audit.snapshot(ticket, AUDITED)
    try:
        outcome = action(actor, ticket, params)
    except ActionError:
        db.session.rollback()
        raise
    ticket.updated_at = utcnow()
    entry = audit.record(actor, "ticket", ticket.reference, name, before,
                         {**audit.snapshot(ticket, AUDITED), **getattr(outcome, "details", {})})
    sla_watch.store_state(ticket)          # the queue filters and sorts by the stored state
    webhooks.emit(_event(name, before, ticket), ticket,
                  {"action": name, "outcome": outcome, "by": actor.email,
                   "before": entry.before, "after": entry.after})
    db.session.commit()
    return outcome


def _event(action: str, before: dict, ticket: Ticket) -> str:
    """The webhook event of an action (``webhooks``)."""
    if action == "escalate":
        return "ticket.escalated"
    if ticket.status == "resolved" and before.get("status") != "resolved":
        return "ticket.resolved"
    return "ticket.updated"
