"""What the dashboard, the JSON API and the CSV exports show, for a ``Filters`` (UTC days
``start..end``, optional site, language, channel).

Event numbers come from the stored daily rollups (``rollup.py``; final days missing are rolled
up on the way) plus today's: its hourly checkpoint and the events since, reduced on the fly (at most every ``LIVE_SECONDS``; ``today.py``). Ticket numbers are read from the tickets
themselves (a few thousand rows, not millions).
"""
from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import func, select

from kb_server.analytics import links, metrics, rollup
from kb_server.analytics.today import live_groups
from kb_server.analytics import tickets as ticket_metrics
from kb_server.console import detail
from kb_server.console.strings import SaidError
from kb_server.extensions import db
from kb_server.models import (AnalyticsArticleDay, AnalyticsDay, AnalyticsQueryDay, AuditEntry,
                              Event, Ticket, TicketArticle, TicketMessage, utcnow)
from kb_server.models.tickets import OPEN_STATUSES
from kb_server.tickets import corrections, sla
from kb_server.tickets.calendar import BUSINESS

CHANNELS = ("widget", "helpcenter")        # widget: a site's events; helpcenter: site ""
HEATMAP_METRICS = ("searches", "contacts", "tickets")
DEFAULT_DAYS = 30
MAX_DAYS = 731
FLAGGED_MIN_VOTES = 3                      # flagged: at least this many "not helpful" votes...
LIVE_SECONDS = 30                          # today's numbers are at most this old
WRITE_ARTICLE_URL = "/console/articles/new?ticket={reference}"   # the authoring console
KEY_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")


class FilterError(SaidError, ValueError):
    """A filter that cannot be used (the ``Said`` message names the parameter)."""


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date                           # inclusive
    site: str | None = None
    language: str | None = None
    channel: str | None = None

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return rollup.day_bounds(self.start)[0], rollup.day_bounds(self.end)[1]

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def matches(self, site_key: str, language: str) -> bool:
        return ((self.site is None or site_key == self.site)
                and (self.language is None or language == self.language)
                and (self.channel is None or (self.channel == "widget") == bool(site_key)))

    def clauses(self, model) -> list:
        """The site/language/channel conditions on a table with those columns."""
        found = []
        if self.site is not None:
            found.append(model.site_key == self.site)
        if self.language is not None:
            found.append(model.language == self.language)
        if self.channel is not None:
            found.append(model.site_key != "" if self.channel == "widget" else model.site_key == "")
        return found

    def as_args(self) -> dict:
        args = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        args.update({k: v for k, v in (("site", self.site), ("language", self.language),
                                       ("channel", self.channel)) if v})
        return args


def _date(args: Mapping, name: str, default: dt.date) -> dt.date:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw) if len(raw) == 10 else _bad_date(name)
    except ValueError:
        return _bad_date(name)


def _bad_date(name: str):
    raise FilterError("err_filter_date", name=name)


def parse_filters(args: Mapping, today: dt.date | None = None) -> Filters:
    """Filters from query parameters ``from``, ``to`` (UTC days, inclusive; default the last
    ``DEFAULT_DAYS`` days), ``site``, ``language``, ``channel``."""
    today = today or utcnow().date()
    end = _date(args, "to", today)
    start = _date(args, "from", end - dt.timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        raise FilterError("err_filter_order")
    if (end - start).days >= MAX_DAYS:
        raise FilterError("err_filter_span", days=MAX_DAYS)
    site = (args.get("site") or "").strip() or None
    if site is not None and site != "-" and not KEY_RE.match(site):
        raise FilterError("err_filter_site")
    language = (args.get("language") or "").strip().lower() or None
    if language is not None and not LANGUAGE_RE.match(language):
        raise FilterError("err_filter_language")
    channel = (args.get("channel") or "").strip() or None
    if channel is not None and channel not in CHANNELS:
        raise FilterError("err_filter_channel", channels=", ".join(CHANNELS))
    return Filters(start, end, "" if site == "-" else site, language, channel)


def parse_zone(name: str | None) -> ZoneInfo:
    """An IANA time zone (``Europe/Berlin``); the ``TIME_ZONE`` setting when empty."""
    name = (name or "").strip() or current_app.config["TIME_ZONE"]
    try:
        if len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FilterError("err_filter_tz", name=name[:64]) from None


# --- event numbers -----------------------------------------------------------------------------
def _split_days(filters: Filters) -> tuple[list[dt.date], list[dt.date]]:
    """(days read from rollups, days reduced from their events now)."""
    now = utcnow()
    stored = rollup.ensure(filters.start, filters.end, now)
    live = [day for day in filters.days() if day not in stored and day <= now.date()]
    return sorted(stored), live


_live: dict[tuple[str, dt.date], tuple[float, list]] = {}     # (database, day) -> (when, groups)


def live_day(day: dt.date) -> list[tuple[rollup.Key, rollup.Group]]:
    """A day not rolled up yet (today) as (key, group) pairs: its hourly checkpoint and the
    events since (``today.live_groups``), at most every ``LIVE_SECONDS`` per process: a
    dashboard's requests share one reduction."""
    key = (str(db.engine.url), day)
    cached = _live.get(key)
    if cached is None or time.monotonic() - cached[0] > LIVE_SECONDS:
        cached = (time.monotonic(), live_groups(day))
        _live.clear()                         # only the current day is ever kept
        _live[key] = cached
    return cached[1]


def _live_groups(days: Iterable[dt.date], filters: Filters) -> list[tuple[dt.date, rollup.Group]]:
    return [(day, group) for day in days for (site_key, language), group in live_day(day)
            if filters.matches(site_key, language)]


@dataclass
class EventNumbers:
    counts: metrics.Counts
    reasons: Counter
    quarters: dict[dt.date, list[int]]         # intents per UTC quarter hour of each day
    by_day: dict[dt.date, metrics.Counts]

    def quarter_pairs(self) -> list[tuple[dt.datetime, int]]:
        """(UTC quarter-hour start, intents) of every quarter hour with any."""
        return [(rollup.day_bounds(day)[0] + dt.timedelta(minutes=15 * n), value)
                for day, counts in self.quarters.items() for n, value in enumerate(counts) if value]


def _add_quarters(into: dict[dt.date, list[int]], day: dt.date, quarters: list[int]) -> None:
    total = into.setdefault(day, [0] * metrics.QUARTERS)
    for n, value in enumerate(quarters):
        total[n] += value


def event_numbers(filters: Filters) -> EventNumbers:
    stored, live = _split_days(filters)
    reasons, quarters = Counter(), {}
    by_day = {day: metrics.Counts() for day in filters.days()}
    if stored:
        rows = db.session.execute(select(AnalyticsDay.day, AnalyticsDay.counts, AnalyticsDay.quarters,
                                         AnalyticsDay.reasons)
                                  .where(AnalyticsDay.day.between(stored[0], stored[-1]),
                                         *filters.clauses(AnalyticsDay)))
        for day, row_counts, row_quarters, row_reasons in rows:
            by_day[day] += metrics.Counts(**row_counts)
            reasons.update(row_reasons or {})
            _add_quarters(quarters, day, row_quarters or [])
    for day, group in _live_groups(live, filters):
        by_day[day] += group.counts
        reasons.update(group.reasons)
        _add_quarters(quarters, day, group.quarters)
    return EventNumbers(sum(by_day.values(), metrics.Counts()), reasons, quarters, by_day)


def ticket_users(filters: Filters) -> int:
    """People (e-mail addresses) who created a contact ticket, counted per day (UTC) and
    summed, as self-service users are."""
    start, end = filters.bounds
    rows = db.session.execute(select(Ticket.created_at, Ticket.email).where(
        Ticket.kind == "contact", Ticket.created_at >= start, Ticket.created_at < end,
        Ticket.email != "", *filters.clauses(Ticket)))
    return len({(created.date(), email.strip().lower()) for created, email in rows})


# --- tickets -----------------------------------------------------------------------------------
def _ticket_rows(filters: Filters) -> list[Ticket]:
    start, end = filters.bounds
    return list(db.session.scalars(select(Ticket).where(
        Ticket.kind == "contact", Ticket.created_at >= start, Ticket.created_at < end,
        *filters.clauses(Ticket))))


def _reply_counts(ids: list[int]) -> Counter:
    rows = db.session.execute(select(TicketMessage.ticket_id, func.count()).where(
        TicketMessage.ticket_id.in_(ids), TicketMessage.kind == "reply")
        .group_by(TicketMessage.ticket_id))
    return Counter(dict(rows.all()))


def _escalated(ids: list[int]) -> set[int]:
    rows = db.session.execute(select(TicketMessage.ticket_id, TicketMessage.data).where(
        TicketMessage.ticket_id.in_(ids), TicketMessage.kind == "escalation"))
    return {ticket_id for ticket_id, data in rows
            if (data or {}).get("to", 0) > (data or {}).get("from", 0)}


def _reopened(references: list[str]) -> set[str]:
    rows = db.session.execute(select(AuditEntry.entity_id, AuditEntry.before, AuditEntry.after).where(
        AuditEntry.entity == "ticket", AuditEntry.entity_id.in_(references)))
    return {reference for reference, before, after in rows
            if (before or {}).get("status") in ticket_metrics.DONE
            and (after or {}).get("status") not in (None, *ticket_metrics.DONE)}


def ticket_facts(filters: Filters) -> list[ticket_metrics.TicketFacts]:
    tickets = _ticket_rows(filters)
    facts = []
    for start in range(0, len(tickets), 500):
        chunk = tickets[start:start + 500]
        ids = [t.id for t in chunk]
        replies, escalated = _reply_counts(ids), _escalated(ids)
        reopened = _reopened([t.reference for t in chunk if t.reference])
        linked = links.linked_articles(ids)
        facts += [ticket_metrics.TicketFacts(
            status=t.status, line=t.line, request_class=t.request_class, priority=t.priority,
            created_at=t.created_at, first_response_at=t.first_response_at,
            resolved_at=t.resolved_at, sla_state=t.sla_state, csat_rating=t.csat_rating,
            replies=replies[t.id], escalated=t.id in escalated or t.line > 1,
            reopened=t.reference in reopened, linked_articles=linked.get(t.id, frozenset()))
            for t in chunk]
    return facts


def ticket_summary(filters: Filters) -> dict:
    """Line-1 metrics of the tickets in range, and the share of suggested classes agents kept."""
    calendar = sla.policy().calendars[BUSINESS]
    result = ticket_metrics.summary(ticket_facts(filters), calendar)
    result["suggestion_accuracy"] = corrections.suggestion_accuracy(   # of the same contact tickets
        *filters.bounds, clauses=(Ticket.kind == "contact", *filters.clauses(Ticket)))["accuracy"]
    return result


# --- the reports -------------------------------------------------------------------------------
def daily(numbers: EventNumbers) -> list[dict]:
    """Per day: intents, intents with no results, sessions, deflection rate, contacts."""
    return [{"day": day.isoformat(), "searches": c.searches, "zero_results": c.zero_results,
             "sessions": c.sessions, "deflection_rate": c.rates()["deflection_rate"],
             "contacts": c.contacts} for day, c in sorted(numbers.by_day.items())]


def summary(filters: Filters, numbers: EventNumbers | None = None) -> dict:
    """The headline numbers (``GET /api/v1/analytics/summary``)."""
    numbers = numbers or event_numbers(filters)
    tickets = ticket_summary(filters)
    result = numbers.counts.rates()
    result["ticket_users"] = people = ticket_users(filters)
    result["self_service_score"] = metrics.rate(numbers.counts.users, people, 2)
    result["not_helpful_reasons"] = dict(numbers.reasons.most_common())
    for key in ("csat", "resolved_at_line1_rate", "first_contact_resolution_rate",
                "sla_breach_rate", "link_rate", "median_first_response_minutes",
                "median_resolution_minutes", "suggestion_accuracy"):
        result[key] = tickets[key]
    result["tickets"] = tickets
    return result


def heatmap(filters: Filters, zone: ZoneInfo, metric: str = "searches") -> list[list[int]]:
    """7 x 24 counts (Monday first, hours of ``zone``) of intents, contacts or tickets."""
    if metric not in HEATMAP_METRICS:
        raise FilterError("err_filter_metric", metrics=", ".join(HEATMAP_METRICS))
    if metric == "searches":
        return metrics.heatmap(event_numbers(filters).quarter_pairs(), zone)
    start, end = filters.bounds
    if metric == "contacts":
        moments = db.session.scalars(select(Event.created_at).where(
            Event.kind == "contact", Event.created_at >= start, Event.created_at < end,
            *filters.clauses(Event)))
    else:
        moments = db.session.scalars(select(Ticket.created_at).where(
            Ticket.created_at >= start, Ticket.created_at < end, *filters.clauses(Ticket)))
    return metrics.heatmap(((moment, 1) for moment in moments), zone)


def queries(filters: Filters) -> dict[str, metrics.QueryCounts]:
    """Intents per normalized query in the range."""
    stored, live = _split_days(filters)
    found: dict[str, metrics.QueryCounts] = {}
    if stored:
        rows = db.session.execute(
            select(AnalyticsQueryDay.query, func.sum(AnalyticsQueryDay.searches),
                   func.sum(AnalyticsQueryDay.zero_results), func.sum(AnalyticsQueryDay.clicked))
            .where(AnalyticsQueryDay.day.between(stored[0], stored[-1]),
                   *filters.clauses(AnalyticsQueryDay))
            .group_by(AnalyticsQueryDay.query))
        found = {query: metrics.QueryCounts(int(s), int(z), int(c)) for query, s, z, c in rows}
    for _, group in _live_groups(live, filters):
        for query, counts in group.queries.items():
            entry = found.setdefault(query, metrics.QueryCounts())
            entry.searches += counts.searches
            entry.zero_results += counts.zero_results
            entry.clicked += counts.clicked
    return found


def _query_row(query: str, counts: metrics.QueryCounts) -> dict:
    return {"query": query, "searches": counts.searches, "zero_results": counts.zero_results,
            "clicked": counts.clicked, "failed": counts.searches - counts.clicked,
            "ctr": metrics.rate(counts.clicked, counts.searches - counts.zero_results)}


def top_queries(filters: Filters, limit: int = 50) -> list[dict]:
    """The most searched queries (intents), with how often they found nothing or nothing opened."""
    found = queries(filters)
    ranked = sorted(found.items(), key=lambda item: (-item[1].searches, item[0]))[:limit]
    return [_query_row(query, counts) for query, counts in ranked]


def failed_queries(filters: Filters, limit: int = 50) -> list[dict]:
    """Queries whose intents most often failed: no results, or results and no click."""
    found = queries(filters)
    ranked = sorted(((q, c) for q, c in found.items() if c.searches > c.clicked),
                    key=lambda item: (-(item[1].searches - item[1].clicked), item[0]))[:limit]
    return [_query_row(query, counts) for query, counts in ranked]


def _catalog_articles() -> dict:
    try:
        from kb_server import search
        return search.service().current_catalog().articles
    except Exception:       # search down: ids without titles
        return {}


def _is_stale(updated: str, today: dt.date, months: int) -> bool:
    try:
        changed = dt.date.fromisoformat(str(updated)[:10])
    except ValueError:
        return False
    return (today - changed).days > months * 30.44


def articles(filters: Filters) -> list[dict]:
    """Per article read in the range: views, votes, helpful rate, "not helpful" reasons,
    sessions that then contacted support, flagged (at least ``FLAGGED_MIN_VOTES`` "not helpful"
    votes and more than "helpful" ones) and stale (not updated for ``ANALYTICS_STALE_MONTHS``)."""
    stored, live = _split_days(filters)
    found: dict[str, metrics.ArticleCounts] = {}
    if stored:
        table = AnalyticsArticleDay
        where = [table.day.between(stored[0], stored[-1]), *filters.clauses(table)]
        rows = db.session.execute(select(table.article_id, func.sum(table.views), func.sum(table.helpful),
                                         func.sum(table.not_helpful), func.sum(table.contacts_after))
                                  .where(*where).group_by(table.article_id))
        found = {article_id: metrics.ArticleCounts(int(v), int(h), int(n), int(c))
                 for article_id, v, h, n, c in rows}
        for article_id, reasons in db.session.execute(select(table.article_id, table.reasons)
                                                      .where(*where, table.not_helpful > 0)):
            found[article_id].reasons.update(reasons or {})
    for _, group in _live_groups(live, filters):
        for article_id, counts in group.articles.items():
            rollup.merge_article(found.setdefault(article_id, metrics.ArticleCounts()), counts)
    catalog, today = _catalog_articles(), utcnow().date()
    months = current_app.config["ANALYTICS_STALE_MONTHS"]
    rows = []
    for article_id, a in found.items():
        article = catalog.get(article_id)
        votes = a.helpful + a.not_helpful
        rows.append({
            "article_id": article_id, "title": article.title if article else "",
            "updated": str(article.updated) if article else "", "views": a.views, "votes": votes,
            "helpful_rate": metrics.rate(a.helpful, votes), "not_helpful": a.not_helpful,
            "reasons": dict(a.reasons.most_common()), "contacts_after": a.contacts_after,
            "flagged": a.not_helpful >= FLAGGED_MIN_VOTES and a.not_helpful > a.helpful,
            "stale": bool(article and a.views and _is_stale(article.updated, today, months))})
    rows.sort(key=lambda row: (-row["views"], row["article_id"]))
    return rows


def content_gaps(filters: Filters, limit: int = 50, suggest: bool = False) -> list[dict]:
    """Knowledge-gap tickets seen in the range (clusters of unresolved queries): the open ones,
    most users affected first, then those an article answered (``answered``, ``answered_by``);
    their queries, "write article" link, and the articles that almost matched (rated "not
    helpful" for it; with ``suggest``, also what search finds now)."""
    start, end = filters.bounds
    answers = select(TicketArticle.ticket_id).where(TicketArticle.relation == "resolved_with")
    is_open = Ticket.status.in_(OPEN_STATUSES)
    gaps = db.session.scalars(select(Ticket).where(
        Ticket.kind == "gap", is_open | Ticket.id.in_(answers), Ticket.gap_last_seen >= start,
        Ticket.gap_first_seen < end, *filters.clauses(Ticket))
        .order_by(is_open.desc(), Ticket.gap_users.desc(), Ticket.id).limit(limit)).all()
    answered_by = _gap_answers([t.id for t in gaps if t.status not in OPEN_STATUSES])
    catalog = _catalog_articles()
    result = []
    for ticket in gaps:
        gap = ticket.gap_dict()
        almost = {article_id: catalog[article_id].title if article_id in catalog else article_id
                  for article_id in gap["articles"]}
        if suggest and ticket.id not in answered_by:
            almost.update({hit["id"]: hit["title"] for hit in detail.suggestions(ticket)})
        result.append({"reference": ticket.reference, "query": gap["query"], "users": gap["users"],
                       "queries": gap["sample_queries"], "signals": gap["signals"],
                       "languages": gap["languages"], "last_seen": gap["last_seen"],
                       "write_url": WRITE_ARTICLE_URL.format(reference=ticket.reference),
                       "almost_matched": [{"article_id": k, "title": v} for k, v in almost.items()],
                       "answered": ticket.id in answered_by,
                       "answered_by": answered_by.get(ticket.id)})
    return result


def _gap_answers(ticket_ids: list[int]) -> dict[int, dict]:
    """The article that answered each closed gap: ``{ticket id: {article_id, title}}``."""
    if not ticket_ids:
        return {}
    rows = db.session.scalars(select(TicketArticle).where(
        TicketArticle.ticket_id.in_(ticket_ids), TicketArticle.relation == "resolved_with")
        .order_by(TicketArticle.id))
    return {row.ticket_id: {"article_id": row.article_id, "title": row.title} for row in rows}
