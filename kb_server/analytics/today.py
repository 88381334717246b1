"""Today's events reduced once an hour, so that a range including today reduces only the last
hour's events on a request (not the whole day's: seconds on a busy day).

A *checkpoint* (``AnalyticsToday``, one row per day not rolled up yet) holds the day's
sessions that had ended by its ``cutoff`` (a whole hour, ``FINAL_AFTER`` behind the clock),
reduced to groups exactly as a day's rollup reduces them, and where each session still open at
the cutoff began. A session has ended once ``SESSION_GAP`` passed since its last event: no later
event can join it. ``advance`` moves the checkpoint to the latest hour, reducing only the
events since the previous cutoff and those of the sessions it left open; the periodic job
``analytics.checkpoint`` does it every ``ANALYTICS_CHECKPOINT_SECONDS``, and a request that
finds it behind does it on the way. ``live_groups`` adds the rest: the open sessions and
everything after the cutoff. The sum is the day's reduction (tested against ``compute_day``):
every session is counted once, on one side; ``users`` (distinct browsers) are kept as hashes
so that a browser on both sides counts once.
"""
from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from kb_server import jobs
from kb_server.analytics import metrics, rollup
from kb_server.extensions import db
from kb_server.models import AnalyticsToday, Event, utcnow


@dataclass
class Checkpoint:
    day: dt.date
    cutoff: dt.datetime
    groups: dict[rollup.Key, rollup.Group] = field(default_factory=dict)
    browsers: dict[rollup.Key, set[str]] = field(default_factory=dict)
    open_sessions: dict[str, dt.datetime] = field(default_factory=dict)   # session id -> start


def target_cutoff(day: dt.date, now: dt.datetime) -> dt.datetime:
    """The latest whole hour of ``day`` that is ``FINAL_AFTER`` behind ``now``."""
    start, end = rollup.day_bounds(day)
    hour = (now - rollup.FINAL_AFTER).replace(minute=0, second=0, microsecond=0)
    return max(start, min(end, hour))


def _pending_events(checkpoint: Checkpoint, until: dt.datetime) -> list:
    """The events the checkpoint does not hold, before ``until``: its open sessions' and every
    event from its cutoff on."""
    opened = checkpoint.open_sessions
    since = min([checkpoint.cutoff, *opened.values()])
    rows = db.session.execute(select(*rollup.EVENT_COLUMNS).where(
        Event.created_at >= since, Event.created_at < until))
    return [row for row in rows if row.created_at >= checkpoint.cutoff
            or (row.session_id in opened and row.created_at >= opened[row.session_id])]


def advance(day: dt.date, now: dt.datetime | None = None) -> Checkpoint:
    """The day's checkpoint, moved to the latest hour first when it is behind (committed)."""
    now = now or utcnow()
    stored = load(day)
    target = target_cutoff(day, now)
    if stored is not None and target <= stored.cutoff:
        return stored
    checkpoint = copy.deepcopy(stored) if stored else Checkpoint(day, rollup.day_bounds(day)[0])
    ended, still_open = [], {}
    for session in metrics.sessions(_pending_events(checkpoint, target)):
        session_id = session[0].session_id
        if session_id and target - session[-1].created_at < metrics.SESSION_GAP:
            still_open[session_id] = session[0].created_at
        else:
            ended.append(session)
    rollup.add_sessions(checkpoint.groups, checkpoint.browsers, ended)
    for key, group in checkpoint.groups.items():
        group.counts.users = len(checkpoint.browsers.get(key, ()))
    checkpoint.cutoff, checkpoint.open_sessions = target, still_open
    _store(checkpoint)
    return checkpoint


def live_groups(day: dt.date, now: dt.datetime | None = None) -> list[tuple[rollup.Key, rollup.Group]]:
    """The day's reduction as (key, group) pairs: the checkpoint's groups and the groups of the
    events after it (whose ``users`` count only browsers the checkpoint has not seen)."""
    checkpoint = advance(day, now)
    groups: dict[rollup.Key, rollup.Group] = {}
    browsers: dict[rollup.Key, set[str]] = {}
    until = rollup.day_bounds(day)[1]
    rollup.add_sessions(groups, browsers, metrics.sessions(_pending_events(checkpoint, until)))
    for key, found in browsers.items():
        groups[key].counts.users = len(found - checkpoint.browsers.get(key, set()))
    return list(checkpoint.groups.items()) + list(groups.items())


# --- storage -----------------------------------------------------------------------------------
def _group_json(key: rollup.Key, group: rollup.Group, browsers: set[str]) -> dict:
    return {"site_key": key[0], "language": key[1], "counts": vars(group.counts),
            "quarters": group.quarters, "reasons": dict(group.reasons),
            "queries": {q: [c.searches, c.zero_results, c.clicked] for q, c in group.queries.items()},
            "articles": {a: [c.views, c.helpful, c.not_helpful, c.contacts_after, dict(c.reasons)]
                         for a, c in group.articles.items()},
            "browsers": sorted(browsers)}


def _group_from(data: dict) -> rollup.Group:
    return rollup.Group(
        counts=metrics.Counts(**data["counts"]), quarters=list(data["quarters"]),
        reasons=Counter(data["reasons"]),
        queries={q: metrics.QueryCounts(*c) for q, c in data["queries"].items()},
        articles={a: metrics.ArticleCounts(*c[:4], reasons=Counter(c[4]))
                  for a, c in data["articles"].items()})


_loaded: dict[tuple[str, dt.date], tuple[dt.datetime, Checkpoint]] = {}   # per process


def load(day: dt.date) -> Checkpoint | None:
    """The day's stored checkpoint, read-only: the last one read is kept per process until
    another is stored (``advance`` changes a copy; ``live_groups`` adds to groups of its own)."""
    stamp = db.session.scalar(select(AnalyticsToday.computed_at).where(AnalyticsToday.day == day))
    if stamp is None:
        return None
    key = (str(db.engine.url), day)
    cached = _loaded.get(key)
    if cached is None or cached[0] != stamp:
        _loaded.clear()
        _loaded[key] = cached = (stamp, _read(day))
    return cached[1]


def _read(day: dt.date) -> Checkpoint:
    row = db.session.get(AnalyticsToday, day)
    keys = [(data["site_key"], data["language"]) for data in row.groups]
    return Checkpoint(day, row.cutoff,
                      groups={key: _group_from(data) for key, data in zip(keys, row.groups)},
                      browsers={key: set(data["browsers"]) for key, data in zip(keys, row.groups)},
                      open_sessions={sid: dt.datetime.fromisoformat(at)
                                     for sid, at in row.open_sessions.items()})


def _store(checkpoint: Checkpoint) -> None:
    """Replace the day's checkpoint (committed; another process's, stored meanwhile, is kept)."""
    stamp = utcnow()
    db.session.execute(delete(AnalyticsToday).where(AnalyticsToday.day == checkpoint.day))
    db.session.add(AnalyticsToday(
        day=checkpoint.day, cutoff=checkpoint.cutoff, computed_at=stamp,
        groups=[_group_json(key, group, checkpoint.browsers.get(key, set()))
                for key, group in checkpoint.groups.items()],
        open_sessions={sid: at.isoformat() for sid, at in checkpoint.open_sessions.items()}))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return
    _loaded.clear()
    _loaded[(str(db.engine.url), checkpoint.day)] = (stamp, checkpoint)


@jobs.periodic("analytics.checkpoint", "ANALYTICS_CHECKPOINT_SECONDS")
def periodic_checkpoint() -> str:
    """Today's checkpoint moved to the latest hour (the cost of an hour of events, off the
    dashboard's requests); yesterday's checkpoints are gone with its rollup."""
    checkpoint = advance(utcnow().date())
    return checkpoint.cutoff.isoformat()
