"""Ticket operations: store events, turn unresolved signals into gap tickets, create contact
tickets with their session's context, list tickets for staff.

Events, signals and tickets are stored even while search is down (a failed search is then
judged in-domain by its words alone: ``rules.in_domain``).
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter

from flask import current_app
from sqlalchemy import distinct, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from indexer.analysis import POLITENESS, message_language, words
from kb_server import jobs, webhooks
from kb_server.extensions import db
from kb_server.models import Event, utcnow
from kb_server.tickets import incidents, rules, sla
from kb_server.tickets.classify import Classification, classify, examples_apply
from kb_server.models.tickets import OPEN_STATUSES, Ticket, TicketSignal, iso

log = logging.getLogger(__name__)

PENDING_BATCH = 500           # events judged per ``process_pending`` call
CONTEXT_EVENTS = 200          # latest session events put into a contact ticket's context
SAMPLE_CAP = 20               # distinct sample queries / pages / articles kept on a gap ticket
COMMENT_CAP = 10
CONTACT_FOLLOW_UP = "tickets.contact_follow_up"   # the job after a contact's commit
SUBJECT_CHARS = 80            # a contact ticket's subject: the message's first sentence, trimmed
QUERIES_CLASSED = 3           # the session's latest distinct searches classed with a contact's message


# --- events ------------------------------------------------------------------------------------
def store_event(**fields) -> Event:
    event = Event(**fields)
    db.session.add(event)
    db.session.commit()
    return event


def process_arrival(event: Event) -> None:
    """Apply the rules that fire on arrival (zero results, not helpful). A failure is logged
    and left for ``process_pending`` to retry: the event itself is already stored."""
    rule = rules.arrival_rule(event, rules.settings()["rules"])
    if rule is None:
        return
    try:
        if rule == "zero_results":
            incidents.observe_search(event)
        _apply(event, rule, utcnow())
    except Exception:
        db.session.rollback()
        log.exception("unresolved-search rule %s failed on event %s", rule, event.id)


def process_pending(now: dt.datetime | None = None, limit: int = PENDING_BATCH) -> dict[str, int]:
    """Judge the search and feedback events not judged yet (idempotent: each event once).

    Searches with results wait until their no-click window has passed; the rest are catch-up
    for arrival rules that failed. Returns how many events ended in each outcome."""
    now = now or utcnow()
    config = rules.settings()
    counts: Counter[str] = Counter()
    for event in db.session.scalars(_unjudged(now - config["no_click"], limit)).all():
        try:
            rule = _apply(event, _judge(event, now, config) or "none", now)
        except IntegrityError:       # judged meanwhile by a concurrent run
            db.session.rollback()
            continue
        counts[rule] += 1
    return dict(counts)


def process_all_pending(now: dt.datetime | None = None) -> dict[str, int]:
    """``process_pending`` batch after batch until every due event is judged (``kb tickets
    process`` from cron, or the periodic job ``tickets.process``)."""
    total: Counter[str] = Counter()
    while True:
        counts = process_pending(now)
        total.update(counts)
        if sum(counts.values()) < PENDING_BATCH:
            return dict(total)


@jobs.periodic("tickets.process", "TICKETS_PROCESS_SECONDS")
def periodic_process() -> dict[str, int]:
    """Judge the due searches as a periodic job (no cron needed)."""
    counts = process_all_pending()
    log.info("unresolved searches judged: %s", counts)
    return counts


def _unjudged(cutoff: dt.datetime, limit: int):
    return (select(Event)
            .outerjoin(TicketSignal, TicketSignal.event_id == Event.id)
            .where(TicketSignal.id.is_(None), Event.kind.in_(("search", "feedback")),
                   or_(Event.kind == "feedback", Event.result_count == 0,
                       Event.created_at <= cutoff))
            .order_by(Event.id).limit(limit))


def _judge(event: Event, now: dt.datetime, config: dict) -> str | None:
    rule = rules.arrival_rule(event, config["rules"])
    if rule or "no_click" not in config["rules"]:
        return rule
    window = config["no_click"]
    if rules.no_click_due(event, now, window) and not _opened_after(event, window):
        return "no_click"
    return None


def _opened_after(search: Event, window: dt.timedelta) -> bool:
    """Whether the search's session clicked or viewed an article within the window."""
    return db.session.execute(
        select(Event.id).where(Event.session_id == search.session_id,
                               Event.kind.in_(rules.OPENED),
                               Event.created_at >= search.created_at,
                               Event.created_at <= search.created_at + window).limit(1)
    ).first() is not None


# --- gap tickets -------------------------------------------------------------------------------
def _apply(event: Event, rule: str, now: dt.datetime) -> str:
    """Record the outcome of ``rule`` for the event (returned: ``none`` without a need,
    ``off_topic`` for a failed search about something else); a signal joins (or opens) a gap
    ticket."""
    need = _need_for(event) if rule in rules.RULES else None
    if need is not None and rule == "zero_results" and not rules.in_domain(need, current_app.config):
        rule, need = "off_topic", None
    rule = rule if need or rule == "off_topic" else "none"
    signal = TicketSignal(event_id=event.id, rule=rule, session_id=event.session_id,
                          processed_at=now)
    db.session.add(signal)
    if need is not None:
        ticket, created = _gap_ticket_for(need, event, now)
        signal.ticket_id = ticket.id
        db.session.flush()
        _add_signal(ticket, event, rule, need)
        if created:
            webhooks.emit("ticket.created", ticket)
    db.session.commit()
    return rule


def _need_for(event: Event) -> rules.Need | None:
    if event.kind != "feedback":
        return rules.need_for_query(event.query, event.language)
    query = event.query or _last_query_before(event)
    if query:
        return rules.need_for_query(query, event.language)
    return rules.need_for_article(event.article_id, event.language)


def _last_query_before(event: Event, searches: int = 20) -> str:
    """The session's latest search before a feedback event that offered the rated article (what
    the user was looking for when it led there); "" when none did: an article opened another way
    is not that search's answer."""
    recent = db.session.execute(
        select(Event.query, Event.result_ids).where(
            Event.session_id == event.session_id, Event.kind == "search", Event.id < event.id,
            Event.query != "").order_by(Event.id.desc()).limit(searches))
    return next((query for query, offered in recent if event.article_id in (offered or [])), "")


def _gap_ticket_for(need: rules.Need, event: Event, now: dt.datetime) -> tuple[Ticket, bool]:
    """The open gap ticket of ``need``, or a new one (True)."""
    config = rules.settings()
    rows = db.session.execute(
        select(Ticket.id, Ticket.gap_key, Ticket.gap_query, Ticket.language)
        .where(Ticket.kind == "gap", Ticket.status.in_(OPEN_STATUSES))).all()
    candidates = [(row.id, rules.Need(row.gap_query, row.language, frozenset(row.gap_key.split())))
                  for row in rows]
    match = rules.best_match(need, candidates, config["threshold"], config["similarity"])
    if match is not None:
        return db.session.get(Ticket, match), False
    return _new_gap_ticket(need, event, now), True


def _new_gap_ticket(need: rules.Need, event: Event, now: dt.datetime) -> Ticket:
    suggestion = classify(need.text or need.article_id, "gap")
    ticket = Ticket(kind="gap", status="new", line=1, gap_key=need.key, gap_query=need.text,
                    language=need.language, site_key=event.site_key, page_url=event.page_url,
                    gap_first_seen=event.created_at, gap_last_seen=event.created_at, gap={},
                    context={}, created_at=now)
    apply_suggestion(ticket, suggestion)
    sla.start_clock(ticket, now)
    db.session.add(ticket)
    db.session.flush()
    ticket.assign_reference()
    return ticket


def _add_signal(ticket: Ticket, event: Event, rule: str, need: rules.Need) -> None:
    """Update the gap ticket's counters, samples and subject with one more signal."""
    gap = {key: value.copy() for key, value in (ticket.gap or {}).items()}  # new objects: JSON
    signals = gap.setdefault("signals", {})                                # columns see changes
    signals[rule] = signals.get(rule, 0) + 1
    queries = gap.setdefault("queries", {})
    if need.text and (need.text in queries or len(queries) < SAMPLE_CAP):
        queries[need.text] = queries.get(need.text, 0) + 1
    _add_unique(gap.setdefault("languages", []), event.language or need.language)
    _add_unique(gap.setdefault("pages", []), event.page_url)
    _add_unique(gap.setdefault("sites", []), event.site_key)
    if event.kind == "feedback":
        _add_feedback(gap, event)
    ticket.gap = gap
    ticket.gap_users = _distinct_sessions(ticket.id)
    ticket.gap_first_seen = min(ticket.gap_first_seen or event.created_at, event.created_at)
    ticket.gap_last_seen = max(ticket.gap_last_seen or event.created_at, event.created_at)
    if queries:
        ticket.gap_query = max(queries, key=queries.get)
    ticket.subject = rules.gap_subject(ticket.gap_users, ticket.gap_query, signals, need.article_id)


def _add_feedback(gap: dict, event: Event) -> None:
    articles = gap.setdefault("articles", {})
    if event.article_id not in articles and len(articles) >= SAMPLE_CAP:
        return
    entry = dict(articles.get(event.article_id, {"count": 0, "reasons": {}}))
    reason = (event.data or {}).get("reason") or "unspecified"
    entry["count"] += 1
    entry["reasons"] = {**entry["reasons"], reason: entry["reasons"].get(reason, 0) + 1}
    articles[event.article_id] = entry
    if event.message and len(gap.setdefault("comments", [])) < COMMENT_CAP:
        gap["comments"].append({"article_id": event.article_id, "reason": reason,
                                "comment": event.message, "at": iso(event.created_at)})


def _add_unique(values: list, value: str) -> None:
    if value and value not in values and len(values) < SAMPLE_CAP:
        values.append(value)


def _distinct_sessions(ticket_id: int) -> int:
    return db.session.scalar(select(func.count(distinct(TicketSignal.session_id)))
                             .where(TicketSignal.ticket_id == ticket_id)) or 0


def apply_suggestion(ticket: Ticket, suggestion: Classification) -> None:
    """The suggested class and priority become the ticket's, remembered with the confidence and
    reason (``context["classification"]``) so a correction can be counted."""
    ticket.request_class, ticket.priority = suggestion.request_class, suggestion.priority
    ticket.suggested_class, ticket.suggestion_confidence = suggestion.request_class, suggestion.confidence
    ticket.context = {**(ticket.context or {}), "classification": suggestion.to_dict()}


# --- contact tickets ---------------------------------------------------------------------------
def create_contact_ticket(fields: dict, message: str, email: str, name: str,
                          subject: str = "", now: dt.datetime | None = None) -> Ticket:
    """A ticket for an explicit contact, with everything its session did; stored in one
    transaction with its ``contact`` event (``fields`` of the event; the email stays off it).
    ``subject``: the user's own (an e-mail's); else a summary of the message. ``now``: when
    the contact arrived (a spooled one: earlier than it is stored)."""
    now = now or utcnow()
    event = Event(**fields, message=message, created_at=now)
    db.session.add(event)
    db.session.flush()
    context = session_context(event.session_id, before_id=event.id)
    latest = context.pop("latest", {})
    text = request_text(event.message, event.query, context["queries"])
    suggestion = classify(text, "contact", examples=False)
    ticket = Ticket(
        kind="contact", status="new", line=1,
        subject=subject or contact_subject(text.partition("\n")[0], event.message),
        message=event.message, email=email, name=name, session_id=event.session_id,
        language=message_language(event.message, event.language or latest.get("language", "")),
        site_key=event.site_key, page_url=event.page_url or latest.get("page_url", ""),
        user_agent=event.user_agent or latest.get("user_agent", ""), context=context,
        created_at=now)
    apply_suggestion(ticket, suggestion)
    sla.start_clock(ticket, now)
    db.session.add(ticket)
    db.session.flush()
    ticket.assign_reference()
    event.data = {"ticket": ticket.reference}
    if suggestion.request_class in incidents.incident_classes() or examples_apply(suggestion.method):
        ticket.follow_up_due, ticket.follow_up_text = utcnow(), text
        jobs.after_commit(CONTACT_FOLLOW_UP, ticket.id)
    webhooks.emit("ticket.created", ticket)
    db.session.commit()
    return ticket


def request_text(message: str, query: str, queries: list[dict]) -> str:
    """What a contact is classed by: its message, then the query it was sent with and the
    session's latest distinct searches (newest first, ``QUERIES_CLASSED``): a "help!" after
    searching "login 502" is an outage."""
    searches = list(dict.fromkeys(q["query"].strip() for q in reversed(queries) if q["query"].strip()))
    parts = [message.strip(), query.strip(), *searches[:QUERIES_CLASSED]]
    return "\n".join(dict.fromkeys(part for part in parts if part))


@jobs.job(CONTACT_FOLLOW_UP, local=True)
def contact_follow_up(ticket_id: int) -> None:
    """What a new contact ticket needs that may take longer than its request: the class the
    nearest examples suggest (the embedder; unless staff re-classed it meanwhile), then the
    incident it reports (when its class is an incident class).

    Done once: the ticket says it is due (``follow_up_due``) until the transaction that does it
    commits. That transaction first claims it (a conditional UPDATE: a concurrent run waits for
    the row, or SQLite's write lock, then finds it claimed); the slow part, the embedder's
    suggestion, is computed before, outside the lock."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.follow_up_due is None:
        return
    method = (ticket.context or {}).get("classification", {}).get("method", "")
    suggestion = classify(ticket.follow_up_text, "contact") if examples_apply(method) else None
    if not _claim_follow_up(ticket_id):
        db.session.rollback()
        return
    db.session.refresh(ticket)
    if suggestion is not None and ticket.request_class == ticket.suggested_class and \
            (suggestion.request_class, suggestion.method) != (ticket.request_class, method):
        apply_suggestion(ticket, suggestion)
        sla.start_clock(ticket, ticket.created_at)
    incidents.observe_contact(ticket, ticket.created_at)   # when its class is an incident's
    db.session.commit()


def _claim_follow_up(ticket_id: int) -> bool:
    """Mark the ticket's follow-up done in this transaction; False when another run has."""
    claimed = db.session.execute(
        update(Ticket).where(Ticket.id == ticket_id, Ticket.follow_up_due.is_not(None))
        .values(follow_up_due=None, follow_up_text="").execution_options(synchronize_session=False))
    return claimed.rowcount == 1


@jobs.periodic("tickets.follow_up_requeue", "JOBS_REQUEUE_SECONDS")
def requeue_follow_ups() -> int:
    """Queue again the contacts' follow-ups still due ``JOBS_REQUEUE_SECONDS`` after their
    commit: their job was lost (the process died before queueing it or before running it in
    its own thread). Returns how many were queued."""
    overdue = db.session.scalars(select(Ticket.id).where(
        Ticket.follow_up_due < jobs.overdue_before()).order_by(Ticket.id)).all()
    for ticket_id in overdue:
        jobs.jobs().enqueue(CONTACT_FOLLOW_UP, ticket_id)
    if overdue:
        log.warning("contact follow-ups queued again (their job was lost): %s", overdue)
    return len(overdue)


SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+|\s*\n+\s*")
GREETINGS = POLITENESS | {"good", "morning", "afternoon", "evening", "dear", "team", "support",
                          "всем", "всім", "уважаемые", "шановні", "доброе", "утро", "ранку"}


def contact_subject(query: str, message: str) -> str:
    """A short summary of the user's message: its first sentence that is more than a greeting,
    cut at a word to ``SUBJECT_CHARS``; the query only when there is no message."""
    sentences = [" ".join(s.split()) for s in SENTENCE_BREAK.split(message.strip())]
    sentences = [s for s in sentences if s]
    text = next((s for s in sentences if not set(words(s)) <= GREETINGS),
                sentences[0] if sentences else query.strip())
    if len(text) <= SUBJECT_CHARS:
        return text
    cut = text[:SUBJECT_CHARS - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"


def session_context(session_id: str, before_id: int | None = None) -> dict:
    """What a session did: queries typed, results shown, articles opened, feedback given,
    pages, and the gap tickets its signals joined. ``latest`` holds the newest page URL,
    language and user agent seen (fallbacks for the ticket's own fields)."""
    events = _session_events(session_id, before_id) if session_id else []
    context = {"queries": [], "results_shown": [], "articles_opened": [], "feedback": [],
               "pages": [], "gap_tickets": _session_gap_tickets(session_id), "latest": {}}
    for event in events:
        _add_to_context(context, event)
    return context


def _session_events(session_id: str, before_id: int | None) -> list[Event]:
    stmt = select(Event).where(Event.session_id == session_id, Event.kind != "contact")
    if before_id is not None:
        stmt = stmt.where(Event.id < before_id)
    latest_first = db.session.scalars(stmt.order_by(Event.id.desc()).limit(CONTEXT_EVENTS)).all()
    return latest_first[::-1]


def _add_to_context(context: dict, event: Event) -> None:
    at = iso(event.created_at)
    if event.kind == "search":
        context["queries"].append({"query": event.query, "language": event.language,
                                   "result_count": event.result_count,
                                   "result_ids": event.result_ids or [], "at": at})
        for article_id in event.result_ids or []:
            if article_id not in context["results_shown"]:
                context["results_shown"].append(article_id)
    elif event.kind in rules.OPENED:
        context["articles_opened"].append({"article_id": event.article_id, "kind": event.kind,
                                           "at": at})
    elif event.kind == "feedback":
        data = event.data or {}
        context["feedback"].append({"article_id": event.article_id, "helpful": data.get("helpful"),
                                    "reason": data.get("reason", ""), "comment": event.message,
                                    "at": at})
    if event.page_url and event.page_url not in context["pages"]:
        context["pages"].append(event.page_url)
    latest = context["latest"]
    for field in ("page_url", "language", "user_agent"):
        if getattr(event, field):
            latest[field] = getattr(event, field)


def _session_gap_tickets(session_id: str) -> list[str]:
    if not session_id:
        return []
    return list(db.session.scalars(
        select(distinct(Ticket.reference)).join(TicketSignal, TicketSignal.ticket_id == Ticket.id)
        .where(TicketSignal.session_id == session_id)))


# --- staff -------------------------------------------------------------------------------------
def list_tickets(filters: dict, page: int, per_page: int) -> tuple[list[Ticket], int]:
    """Tickets matching ``filters`` (column -> value), newest activity first."""
    stmt = select(Ticket).filter_by(**filters)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = db.session.scalars(stmt.order_by(Ticket.updated_at.desc(), Ticket.id.desc())
                               .offset((page - 1) * per_page).limit(per_page)).all()
    return list(items), total


def get_ticket(reference: str) -> Ticket | None:
    return db.session.scalar(select(Ticket).filter_by(reference=reference.upper()))
