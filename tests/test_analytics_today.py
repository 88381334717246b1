"""Today's hourly checkpoint (``kb_server.analytics.today``): the checkpoint plus the events
after it add up to the day's reduction (``rollup.compute_day``) with sessions, keystroke
intents and one browser across the cutoff; advancing is incremental; the rollup replaces it."""
from __future__ import annotations

import datetime as dt

from kb_server.analytics import rollup, today
from kb_server.extensions import db
from kb_server.models import AnalyticsToday, Event

DAY = dt.date(2026, 11, 20)


def at(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute, second))


def ev(when, kind, session="", **fields):
    return Event(created_at=when, kind=kind, session_id=session, site_key=fields.pop("site", ""),
                 language=fields.pop("language", "en"), **fields)


LOG = [
    # ended well before 10:00
    ev(at(9, 10), "search", "s1", query="invoice", result_count=2, result_ids=["en/inv", "en/b"]),
    ev(at(9, 10, 5), "click", "s1", article_id="en/b"),
    ev(at(9, 10, 6), "view", "s1", article_id="en/b"),
    # open at 10:00: a view after it, then a contact (deflection and "contacts after" span it)
    ev(at(9, 50), "search", "s2", query="vpn", result_count=1, result_ids=["en/vpn"]),
    ev(at(10, 5), "view", "s2", article_id="en/vpn"),
    ev(at(10, 20), "contact", "s2"),
    # one id, two sessions: the first ended, the second open at 10:00 and at 11:00
    ev(at(8, 0), "search", "s3", query="export", result_count=0),
    ev(at(9, 45), "search", "s3", query="export data", result_count=0, site="demo"),
    ev(at(10, 40), "feedback", "s3", article_id="en/inv", data={"helpful": False, "reason": "unclear"}),
    ev(at(11, 5), "search", "s3", query="export again", result_count=0, site="demo"),
    # one browser on both sides of the cutoffs: one user
    ev(at(9, 0), "search", "s4", query="reset", result_count=1, result_ids=["en/reset"]),
    ev(at(11, 30), "search", "s4", query="reset password", result_count=1, result_ids=["en/reset"]),
    # keystrokes of one intent across 10:00
    ev(at(9, 59, 58), "search", "s5", query="pass", result_count=3, result_ids=["en/a"], language="ru"),
    ev(at(10, 0, 3), "search", "s5", query="password", result_count=3, result_ids=["en/a"], language="ru"),
    # no session id: a session of its own
    ev(at(9, 30), "feedback", article_id="en/inv", data={"helpful": True}),
    # the day before and after do not count
    ev(at(0, 0) - dt.timedelta(seconds=1), "search", "s1", query="yesterday"),
    ev(at(0, 0) + dt.timedelta(days=1), "search", "s1", query="tomorrow"),
]


def _by_key(pairs) -> dict:
    """(key, group) pairs summed per key, as plain values."""
    total: dict = {}
    for key, group in pairs:
        entry = total.setdefault(key, {"counts": rollup.metrics.Counts(), "quarters": [0] * 96,
                                       "reasons": {}, "queries": {}, "articles": {}})
        entry["counts"] += group.counts
        entry["quarters"] = [a + b for a, b in zip(entry["quarters"], group.quarters)]
        for reason, n in group.reasons.items():
            entry["reasons"][reason] = entry["reasons"].get(reason, 0) + n
        for query, q in group.queries.items():
            old = entry["queries"].get(query, (0, 0, 0))
            entry["queries"][query] = tuple(a + b for a, b in zip(old, (q.searches, q.zero_results, q.clicked)))
        for article, a in group.articles.items():
            old = entry["articles"].get(article, (0, 0, 0, 0))
            entry["articles"][article] = tuple(x + y for x, y in zip(old, (a.views, a.helpful, a.not_helpful, a.contacts_after)))
    return total


def test_checkpoint_plus_the_rest_is_the_days_reduction(app):
    with app.app_context():
        db.session.add_all(LOG)
        db.session.commit()
        whole = _by_key(rollup.compute_day(DAY).items())
        assert whole[("", "en")]["counts"].users == 4      # s1, s2, s3 (08:00), s4 (two sessions)

        first = today.advance(DAY, now=at(10, 20))              # 10:00, 5 minutes behind
        assert first.cutoff == at(10, 0)
        assert first.open_sessions == {"s2": at(9, 50), "s3": at(9, 45), "s5": at(9, 59, 58)}
        assert _by_key(today.live_groups(DAY, now=at(10, 20))) == whole

        second = today.advance(DAY, now=at(11, 50))             # incremental: from 10:00 to 11:00
        assert second.cutoff == at(11, 0)
        assert set(second.open_sessions) == {"s3"}      # s2 ended: 40 minutes since its contact
        assert _by_key(today.live_groups(DAY, now=at(11, 50))) == whole
        assert _by_key(today.live_groups(DAY, now=at(23, 59))) == whole   # all ended: one side
        row = db.session.get(AnalyticsToday, DAY)
        assert row.cutoff == at(23, 0) and "s4" not in str(row.groups)    # browsers hashed


def test_the_days_rollup_replaces_its_checkpoint(app):
    with app.app_context():
        db.session.add_all(LOG[:3])
        db.session.commit()
        today.advance(DAY, now=at(12, 0))
        assert db.session.get(AnalyticsToday, DAY) is not None
        rollup.ensure(DAY, DAY, now=at(0, 10) + dt.timedelta(days=1))
        assert db.session.get(AnalyticsToday, DAY) is None
