"""Days of events reduced to what the dashboard reads, computed once and stored.

A UTC day is *final* once it has ended (plus ``FINAL_AFTER`` for requests in flight); a final
day's rollup is computed from its events (``compute_day``) and stored (``store_day``) by
``kb analytics rollup`` (cron) or, lazily, by the first report that needs it. Days not final
(today) are computed from their events: up to the last hour from a checkpoint (``today.py``),
the rest on the request. Either way a day is reduced the same
way, so a range is the sum of its days: a session that crosses midnight UTC counts on both days.

Rollups keep no session ids, e-mails or page URLs; they keep normalized query texts, which
``kb privacy retention`` deletes with the events (``forget_queries_before``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import case, delete, func, select
from sqlalchemy.exc import IntegrityError

from kb_server.analytics import metrics
from kb_server.extensions import db
from kb_server.models import (AnalyticsArticleDay, AnalyticsDay, AnalyticsQueryDay,
                              AnalyticsRollupDay, AnalyticsToday, Event, utcnow)

FINAL_AFTER = dt.timedelta(minutes=5)
BATCH_DAYS = 7
# the JSON columns only where the definitions read them (decoding them is most of a read)
EVENT_COLUMNS = (Event.id, Event.created_at, Event.kind, Event.session_id, Event.site_key,
                 Event.language, Event.query, Event.result_count,
                 case((Event.kind == "search", Event.result_ids)).label("result_ids"),
                 Event.article_id, case((Event.kind == "feedback", Event.data)).label("data"))
Key = tuple[str, str]          # (site key, language)


@dataclass
class Group:
    """One day's numbers for one site and language."""

    counts: metrics.Counts = field(default_factory=metrics.Counts)
    quarters: list[int] = field(default_factory=lambda: [0] * metrics.QUARTERS)
    reasons: Counter = field(default_factory=Counter)
    queries: dict[str, metrics.QueryCounts] = field(default_factory=dict)
    articles: dict[str, metrics.ArticleCounts] = field(default_factory=dict)


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time())
    return start, start + dt.timedelta(days=1)


def is_final(day: dt.date, now: dt.datetime | None = None) -> bool:
    return day_bounds(day)[1] + FINAL_AFTER <= (now or utcnow())


def session_key(session: list) -> Key:
    """The site and language a session counts under: those of its first event with a
    language (else of its first event)."""
    first = next((event for event in session if event.language), session[0])
    return first.site_key or "", first.language or ""


def reduce_events(events) -> dict[Key, Group]:
    """Events (of one day) reduced to their groups."""
    groups: dict[Key, Group] = {}
    browsers: dict[Key, set[str]] = {}
    add_sessions(groups, browsers, metrics.sessions(events))
    for key, found in browsers.items():
        groups[key].counts.users = len(found)
    return groups


def add_sessions(groups: dict[Key, Group], browsers: dict[Key, set[str]], session_list) -> None:
    """Whole sessions added to ``groups``; ``browsers`` collects each group's self-service
    browsers (hashed: ``users`` is their number, which the caller sets)."""
    for session in session_list:
        key = session_key(session)
        group = groups.setdefault(key, Group())
        found_browsers = browsers.setdefault(key, set())
        browser = metrics.self_service_browser(session)
        if browser:
            found_browsers.add(browser_hash(browser))
        found = metrics.session_intents(session)
        group.counts += metrics.session_counts(session, found)
        for intent in found:
            group.quarters[metrics.quarter_of(intent.started_at)] += 1
            group.queries.setdefault(intent.query, metrics.QueryCounts()).add(intent)
        for article_id, counts in metrics.article_counts([session]).items():
            merge_article(group.articles.setdefault(article_id, metrics.ArticleCounts()), counts)
            group.reasons.update(counts.reasons)


def browser_hash(session_id: str) -> str:
    """A browser (session id) as stored in today's checkpoint: a short hash, not the id."""
    return hashlib.blake2b(session_id.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def merge_article(into: metrics.ArticleCounts, other: metrics.ArticleCounts) -> None:
    into.views += other.views
    into.helpful += other.helpful
    into.not_helpful += other.not_helpful
    into.contacts_after += other.contacts_after
    into.reasons.update(other.reasons)


def compute_day(day: dt.date) -> dict[Key, Group]:
    start, end = day_bounds(day)
    rows = db.session.execute(select(*EVENT_COLUMNS).where(Event.created_at >= start,
                                                           Event.created_at < end)).all()
    return reduce_events(rows)


def store_day(day: dt.date, groups: dict[Key, Group]) -> None:
    """Add a day's rollup (replacing any) to the session (the caller commits)."""
    _delete_days(AnalyticsRollupDay.day == day)
    db.session.execute(delete(AnalyticsToday).where(AnalyticsToday.day == day))  # its checkpoint
    db.session.add(AnalyticsRollupDay(day=day, computed_at=utcnow()))
    for (site_key, language), group in groups.items():
        db.session.add(AnalyticsDay(day=day, site_key=site_key, language=language,
                                    counts=vars(group.counts), quarters=group.quarters,
                                    reasons=dict(group.reasons)))
    _insert(AnalyticsQueryDay, [
        {"day": day, "site_key": site_key, "language": language, "query": query[:500],
         "searches": q.searches, "zero_results": q.zero_results, "clicked": q.clicked}
        for (site_key, language), group in groups.items() for query, q in group.queries.items()])
    _insert(AnalyticsArticleDay, [
        {"day": day, "site_key": site_key, "language": language, "article_id": article_id,
         "views": a.views, "helpful": a.helpful, "not_helpful": a.not_helpful,
         "contacts_after": a.contacts_after, "reasons": dict(a.reasons)}
        for (site_key, language), group in groups.items() for article_id, a in group.articles.items()])


def _insert(model, rows: list[dict]) -> None:
    if rows:                   # (an empty executemany would insert one row of defaults)
        db.session.execute(model.__table__.insert(), rows)


def _delete_days(condition_on_rollup_day) -> None:
    """Delete the rollups of the days matching a condition on ``AnalyticsRollupDay.day``."""
    days = select(AnalyticsRollupDay.day).where(condition_on_rollup_day).scalar_subquery()
    for model in (AnalyticsDay, AnalyticsQueryDay, AnalyticsArticleDay):
        db.session.execute(delete(model).where(model.day.in_(days)))
    db.session.execute(delete(AnalyticsRollupDay).where(condition_on_rollup_day))


def stored_days(start: dt.date, end: dt.date) -> set[dt.date]:
    return set(db.session.scalars(select(AnalyticsRollupDay.day)
                                  .where(AnalyticsRollupDay.day.between(start, end))))


def ensure(start: dt.date, end: dt.date, now: dt.datetime | None = None) -> set[dt.date]:
    """Roll up the final days of ``start..end`` not stored yet; returns the stored days.

    Days are computed first and written ``BATCH_DAYS`` at a time, each batch in one short
    transaction (SQLite: the widget's events are not held up while days are computed). If
    another process stored a day meanwhile, its rollup is kept."""
    done = stored_days(start, end)
    missing = [day for day in _days(start, end) if day not in done and is_final(day, now)]
    for first in range(0, len(missing), BATCH_DAYS):
        batch = {day: compute_day(day) for day in missing[first:first + BATCH_DAYS]}
        for day, groups in batch.items():
            store_day(day, groups)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
    return stored_days(start, end) if missing else done


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def first_event_day() -> dt.date | None:
    first = db.session.scalar(select(func.min(Event.created_at)))
    return first.date() if first else None


def roll_up(now: dt.datetime | None = None, recompute: bool = False) -> int:
    """Roll up every final day since the first event (``recompute``: again); returns how many
    days were computed."""
    first = first_event_day()
    if first is None:
        return 0
    now = now or utcnow()
    if recompute:
        _delete_days(AnalyticsRollupDay.day >= first)
    before = stored_days(first, now.date())
    return len(ensure(first, now.date(), now) - before)


def forget_queries_before(day: dt.date) -> int:
    """Delete the query texts of the days before ``day`` (retention: the events they came
    from are gone); the days' counts stay. Returns the rows deleted."""
    result = db.session.execute(delete(AnalyticsQueryDay).where(AnalyticsQueryDay.day < day))
    return result.rowcount or 0
