"""The queue: views, filters, search, sort by SLA due time, counts per view, SLA state.

The SLA state and next due time are those of ``kb_server.tickets.sla`` (business-hours
calendars, pauses while pending, "due soon" at ``SLA_DUE_SOON``), stored on the ticket on every
change and by the periodic check (``sla_watch``). Between checks a ticket whose stored due time
has passed counts as *breached* at once.

The same ``Filters`` serve the console (lenient: a bad value is dropped) and the staff API
(strict: a bad value is a 400).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select

from indexer.analysis import detect_language, fold, word_stems

from kb_server.extensions import db
from kb_server.jsonapi import APIError
from kb_server.models import Ticket, TicketMessage, User, utcnow
from kb_server.models.tickets import KINDS, LINES, OPEN_STATUSES, STATUSES
from kb_server.tickets import classify, service, sla

log = logging.getLogger(__name__)
VIEWS = ("mine", "line", "open", "sla", "gaps", "all")
SLA_STATES = ("breached", "due_soon", "ok", "paused")
RUNNING = ("ok", "due_soon")
SORTS = ("due", "priority", "created", "updated")
MAX_SEARCH = 200
ROW_ID_MAX = 999_999_999      # ids in URLs and forms stop here (SQLite integers overflow later)

NEXT_DUE = Ticket.sla_next_due
SEARCHED = (Ticket.reference, Ticket.subject, Ticket.message, Ticket.email, Ticket.name, Ticket.gap_query)
MIN_NEEDLE = 4                 # a word's form shorter than this matches too much: the word's start


def row_id(raw) -> int | None:
    """A row id given as text ("42"), or None (not digits, or too long to be one)."""
    raw = str(raw or "").strip()[:12]
    return int(raw) if raw.isdigit() and int(raw) <= ROW_ID_MAX else None


def next_due(ticket: Ticket) -> dt.datetime | None:
    return ticket.sla_next_due


def sla_state(ticket: Ticket, now: dt.datetime | None = None) -> str:
    """The stored SLA state (``ok``, ``due_soon``, ``breached``, ``paused``, ``met``,
    ``missed``), ``breached`` already if its due time passed since it was stored."""
    state = ticket.sla_state or ""
    if state in RUNNING and ticket.sla_next_due and ticket.sla_next_due < (now or utcnow()):
        return "breached"
    return state


def request_classes() -> list[str]:
    return [c["name"] for c in classify.classes()]


@dataclass
class Filters:
    view: str = "open"
    status: str = ""
    request_class: str = ""
    priority: str = ""
    line: int | None = None
    site: str = ""
    language: str = ""
    assignee: str = ""          # a user id, "me" or "none"
    sla_state: str = ""
    kind: str = ""
    q: str = ""
    sort: str = "due"
    errors: list[str] = field(default_factory=list)

    def as_args(self, **changes) -> dict:
        """The non-default values as query-string arguments (for links)."""
        values = {"view": self.view, "status": self.status, "class": self.request_class,
                  "priority": self.priority, "line": self.line or "", "site": self.site,
                  "language": self.language, "assignee": self.assignee, "sla": self.sla_state,
                  "kind": self.kind, "q": self.q, "sort": self.sort if self.sort != "due" else ""}
        values.update(changes)
        return {key: value for key, value in values.items() if value not in ("", None)}


def parse_filters(args, strict: bool, default_view: str = "open") -> Filters:
    """Filters from query-string ``args``; ``strict`` raises ``APIError`` on a bad value."""
    filters = Filters(view=default_view)
    choices = {"view": VIEWS, "status": STATUSES, "class": request_classes(),
               "priority": sla.priorities(), "line": [str(n) for n in LINES],
               "sla": SLA_STATES, "kind": KINDS, "sort": SORTS}
    attributes = {"class": "request_class", "sla": "sla_state"}
    for name, allowed in choices.items():
        value = (args.get(name) or "").strip()
        if not value:
            continue
        if value not in allowed:
            if strict:
                raise APIError(f"'{name}' must be one of {', '.join(map(str, allowed))}")
            filters.errors.append(name)
            continue
        setattr(filters, attributes.get(name, name), int(value) if name == "line" else value)
    for name in ("site", "language", "assignee", "q"):
        value = (args.get(name) or "").strip()
        limit = MAX_SEARCH if name == "q" else 64
        if len(value) > limit:
            if strict:
                raise APIError(f"'{name}' is longer than {limit} characters")
            value = value[:limit]
        setattr(filters, name, value)
    if filters.assignee and filters.assignee not in ("me", "none") and row_id(filters.assignee) is None:
        if strict:
            raise APIError("'assignee' must be a user id, 'me' or 'none'")
        filters.assignee = ""
    return filters


def _view_condition(view: str, user: User, now: dt.datetime):
    open_ = Ticket.status.in_(OPEN_STATUSES)
    if view == "mine":
        return and_(open_, Ticket.assignee_id == user.id)
    if view == "line":
        mine = Ticket.line == user.line if user.line else Ticket.line == 1
        return and_(open_, mine, Ticket.assignee_id.is_(None))
    if view == "sla":
        return or_(_sla_condition("breached", now), _sla_condition("due_soon", now))
    if view == "gaps":
        return and_(open_, Ticket.kind == "gap")
    if view == "open":
        return open_
    return Ticket.merged_into_id.is_(None)          # "all": every ticket not merged away


def _sla_condition(state: str, now: dt.datetime):
    """Tickets in ``state`` (as ``sla_state`` judges it, in SQL)."""
    open_ = Ticket.status.in_(OPEN_STATUSES)
    overdue = and_(Ticket.sla_state.in_(RUNNING), NEXT_DUE < now)
    if state == "breached":
        return and_(open_, or_(Ticket.sla_state == "breached", overdue))
    return and_(open_, Ticket.sla_state == state, or_(NEXT_DUE.is_(None), NEXT_DUE >= now))


def search_needles(text: str) -> list[str]:
    """Per word of ``text``, what a ticket's text must contain for it: the word with ё folded
    to е, cut to what it shares with its stem or lemma in the query's language ("пароля" ->
    "паро", so "пароль" and "паролем" match; "платёж" -> "платеж"), at least ``MIN_NEEDLE``
    letters."""
    language = detect_language(text)
    needles = []
    for word, stem in word_stems(text, language):
        shared = os.path.commonprefix([word, stem])
        needles.append(word[:max(len(shared), MIN_NEEDLE)])
    return needles


def _search_condition(text: str):
    """The ticket's text fields or its conversation contain ``text`` (case-insensitive), or
    each of its words in some form (``search_needles``); ё and е are one letter."""
    def has(column, needle):
        return func.replace(func.lower(column), "ё", "е").contains(needle, autoescape=True)

    def anywhere(needle):
        in_messages = select(TicketMessage.ticket_id).where(has(TicketMessage.body, needle))
        return or_(*(has(column, needle) for column in SEARCHED), Ticket.id.in_(in_messages))
    whole = fold(text.lower())
    needles = search_needles(text)
    return or_(anywhere(whole), and_(*map(anywhere, needles))) if needles else anywhere(whole)


def conditions(filters: Filters, user: User, now: dt.datetime) -> list:
    found = [_view_condition(filters.view, user, now)]
    simple = {Ticket.status: filters.status, Ticket.request_class: filters.request_class,
              Ticket.priority: filters.priority, Ticket.line: filters.line,
              Ticket.site_key: filters.site, Ticket.language: filters.language,
              Ticket.kind: filters.kind}
    found += [column == value for column, value in simple.items() if value not in ("", None)]
    if filters.assignee == "none":
        found.append(Ticket.assignee_id.is_(None))
    elif filters.assignee:
        found.append(Ticket.assignee_id == (user.id if filters.assignee == "me"
                                            else int(filters.assignee)))
    if filters.sla_state:
        found.append(_sla_condition(filters.sla_state, now))
    if filters.q:
        found.append(_search_condition(filters.q))
    return found


def _order(sort: str):
    if sort == "priority":
        return (Ticket.priority, NEXT_DUE.is_(None), NEXT_DUE, Ticket.id)
    if sort == "created":
        return (Ticket.created_at.desc(), Ticket.id.desc())
    if sort == "updated":
        return (Ticket.updated_at.desc(), Ticket.id.desc())
    return (NEXT_DUE.is_(None), NEXT_DUE, Ticket.id)


def refresh() -> None:
    """Judge due no-click searches first, so the queue is current; never fails the queue."""
    try:
        service.process_pending()
    except Exception:
        db.session.rollback()
        log.exception("processing pending ticket signals failed")


def find(filters: Filters, user: User, page: int = 1, per_page: int = 50,
         now: dt.datetime | None = None) -> tuple[list[Ticket], int]:
    """One page of the tickets that match, and how many match."""
    now = now or utcnow()
    stmt = select(Ticket).where(*conditions(filters, user, now))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(stmt.order_by(*_order(filters.sort))
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def counts(user: User, now: dt.datetime | None = None) -> dict[str, int]:
    """How many tickets each view holds (no other filter)."""
    now = now or utcnow()
    return {view: db.session.scalar(select(func.count()).select_from(Ticket)
                                    .where(_view_condition(view, user, now))) or 0
            for view in VIEWS}


def facet_values() -> dict[str, list[str]]:
    """The sites and languages that tickets have (filter choices)."""
    def distinct(column) -> list[str]:
        return [v for v in db.session.scalars(select(column).distinct().order_by(column)) if v]
    return {"site": distinct(Ticket.site_key), "language": distinct(Ticket.language)}
