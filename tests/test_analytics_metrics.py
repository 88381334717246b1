"""The analytics definitions on hand-built event logs, with the values computed by hand."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from kb_server.analytics import metrics, tickets
from kb_server.tickets.calendar import builtin_calendars

T0 = dt.datetime(2026, 3, 2, 10, 0, 0)        # a Monday, UTC


@dataclass
class E:
    """An event row as the metrics read it."""

    kind: str
    at: float                     # seconds after T0
    session_id: str = "s1"
    query: str = ""
    result_count: int = 0
    result_ids: list = field(default_factory=list)
    article_id: str = ""
    data: dict = field(default_factory=dict)
    language: str = "en"
    site_key: str = ""

    @property
    def created_at(self) -> dt.datetime:
        return T0 + dt.timedelta(seconds=self.at)


def search(at, query, ids=(), session="s1"):
    return E("search", at, session, query, len(ids), list(ids))


def intents(log):
    return [i for session in metrics.sessions(log) for i in metrics.session_intents(session)]


def test_keystroke_searches_collapse_into_one_intent():
    log = [search(0, "res", ["a", "b"]), search(2, "Reset", ["a"]),
           search(4, "reset  pass", ["c", "a", "d"]),        # extends "reset" (spaces collapsed)
           search(5, "reset pas", ["c", "a"]),               # backspace: still the same intent
           search(30, "reset password", ["c"]),              # 25 s later: a new intent
           search(31, "invoice", [])]                         # not an extension: a new intent
    found = intents(log)
    assert [i.query for i in found] == ["reset pas", "reset password", "invoice"]
    assert [len(i.searches) for i in found] == [4, 1, 1]
    assert metrics.count(log).searches == 3


def test_intent_window_is_strict():
    found = intents([search(0, "vpn"), search(10, "vpn error")])   # exactly INTENT_GAP
    assert len(found) == 2
    assert len(intents([search(0, "vpn"), search(9.9, "vpn error")])) == 1


def test_rates_and_click_positions():
    log = [search(0, "reset", ["a", "b", "c"]),
           E("click", 3, article_id="c"),                    # position 3
           E("click", 4, article_id="a"),                    # position 1 (same intent)
           search(60, "invoice", ["x", "y"]),                # results, no click
           search(120, "vpn 809"),                            # no results
           search(180, "billing", ["y", "z"]),
           E("click", 185, article_id="z")]                   # position 2
    counts = metrics.count(log)
    rates = counts.rates()
    assert rates["searches"] == 4
    assert rates["zero_result_rate"] == 0.25                  # 1 / 4
    assert rates["no_click_rate"] == round(1 / 3, 4)          # invoice / 3 with results
    assert rates["ctr"] == round(2 / 3, 4)
    assert rates["mean_click_position"] == 2.0                # (3 + 1 + 2) / 3


def test_ctr_is_null_without_intents_with_results():
    rates = metrics.count([search(0, "nothing here"), search(50, "nor here")]).rates()
    assert rates["searches"] == 2 and rates["zero_result_rate"] == 1.0
    assert rates["ctr"] is None and rates["no_click_rate"] is None
    assert rates["mean_click_position"] is None
    assert metrics.Counts().rates()["zero_result_rate"] is None


def test_a_session_ends_after_exactly_30_minutes_of_inactivity():
    thirty = 30 * 60
    log = [search(0, "reset", ["a"]), E("view", 10, article_id="a"),
           E("view", 10 + thirty - 1, article_id="b"),       # 29:59 later: same session
           E("view", 10 + 2 * thirty - 1, article_id="c")]   # exactly 30:00 later: a new one
    assert [len(s) for s in metrics.sessions(log)] == [3, 1]
    assert metrics.count(log).sessions == 2
    other = [search(0, "x", session="s2"), search(5, "y", session="s3")]
    assert metrics.count(other).sessions == 2                # sessions never merge
    assert metrics.count(log).users == 1                     # one browser, two sessions
    assert metrics.count(log + other + [E("contact", 0, "s4")]).users == 3


def test_deflection_counts_self_service_sessions_without_contact():
    log = [search(0, "reset", ["a"], session="s1"),                       # deflected
           search(0, "vpn", session="s2"), E("contact", 60, "s2"),         # ended in a contact
           E("view", 0, "s3", article_id="a"),                             # deflected
           E("contact", 0, "s4"),                                          # no self-service
           E("view", 0, "s5", article_id="a"), E("contact", 1900, "s5")]   # contact 31 min later:
    rates = metrics.count(log).rates()                                     # another session
    assert rates["sessions"] == 6
    assert rates["deflection_rate"] == 0.75                                # 3 of s1, s2, s3, s5


def test_helpful_rate_reasons_and_contacts_after_reading():
    log = [E("view", 0, "s1", article_id="a"),
           E("feedback", 5, "s1", article_id="a", data={"helpful": False, "reason": "outdated"}),
           E("contact", 20, "s1"),
           E("view", 0, "s2", article_id="a"),
           E("feedback", 5, "s2", article_id="a", data={"helpful": True, "reason": ""}),
           E("view", 0, "s3", article_id="b"),
           E("feedback", 5, "s3", article_id="b", data={"helpful": False, "reason": ""}),
           E("contact", 9, "s3"), E("contact", 12, "s3")]                # one session: once
    assert metrics.count(log).rates()["helpful_rate"] == round(1 / 3, 4)
    found = metrics.article_counts(metrics.sessions(log))
    assert (found["a"].views, found["a"].helpful, found["a"].not_helpful) == (2, 1, 1)
    assert found["a"].reasons == {"outdated": 1} and found["b"].reasons == {"unspecified": 1}
    assert found["a"].contacts_after == 1 and found["b"].contacts_after == 1


def test_heatmap_across_midnight_in_a_time_zone():
    # Sunday 22:30 UTC is Monday 01:30 in Moscow (UTC+3, no DST): the count moves to Monday
    sunday_late = dt.datetime(2026, 3, 1, 22, 30)
    grid = metrics.heatmap([(sunday_late, 4)], ZoneInfo("Europe/Moscow"))
    assert grid[0][1] == 4 and sum(map(sum, grid)) == 4
    utc = metrics.heatmap([(sunday_late, 4)], ZoneInfo("UTC"))
    assert utc[6][22] == 4
    # Monday 02:00 UTC is Sunday 18:00 in Los Angeles (UTC-8 in winter)
    assert metrics.heatmap([(dt.datetime(2026, 3, 2, 2, 0), 1)], ZoneInfo("America/Los_Angeles"))[6][18] == 1


def test_heatmap_follows_daylight_saving_time():
    berlin = ZoneInfo("Europe/Berlin")          # DST starts 2026-03-29 at 01:00 UTC
    before = dt.datetime(2026, 3, 28, 8, 0)     # Saturday 09:00 CET (UTC+1)
    after = dt.datetime(2026, 3, 30, 8, 0)      # Monday 10:00 CEST (UTC+2)
    grid = metrics.heatmap([(before, 1), (after, 2)], berlin)
    assert grid[5][9] == 1 and grid[0][10] == 2
    # the night of the change: 00:45 UTC is 01:45 CET, 01:00 UTC is already 03:00 CEST
    night = metrics.heatmap([(dt.datetime(2026, 3, 29, 0, 45), 1), (dt.datetime(2026, 3, 29, 1, 0), 1)], berlin)
    assert night[6][1] == 1 and night[6][3] == 1 and night[6][2] == 0
    # a half-hour zone: quarter hours land in the right local hour (India, UTC+5:30)
    india = metrics.heatmap([(dt.datetime(2026, 3, 2, 3, 15), 1), (dt.datetime(2026, 3, 2, 3, 30), 1)],
                            ZoneInfo("Asia/Kolkata"))
    assert india[0][8] == 1 and india[0][9] == 1


def _ticket(**fields):
    base = {"status": "resolved", "line": 1, "request_class": "how_to", "priority": "P3",
            "created_at": dt.datetime(2026, 3, 2, 17, 0)}          # Monday 17:00 UTC
    return tickets.TicketFacts(**{**base, **fields})


def test_ticket_metrics_on_business_hours():
    business = builtin_calendars("UTC")["business"]               # Mon-Fri 09:00-18:00
    monday5pm = dt.datetime(2026, 3, 2, 17, 0)
    found = [
        # answered Tuesday 09:30: 60 + 30 business minutes; resolved at once; one reply, linked
        _ticket(first_response_at=monday5pm + dt.timedelta(hours=16, minutes=30),
                resolved_at=monday5pm + dt.timedelta(hours=16, minutes=30), replies=1,
                sla_state="met", csat_rating="good", linked_articles=frozenset({"en/a"})),
        # escalated to line 2, two replies, resolved Monday 17:30 (30 minutes)
        _ticket(line=2, escalated=True, first_response_at=monday5pm + dt.timedelta(minutes=10),
                resolved_at=monday5pm + dt.timedelta(minutes=30), replies=2, sla_state="missed",
                csat_rating="bad", request_class="outage", priority="P1"),
        # one reply but reopened once before its resolution
        _ticket(first_response_at=monday5pm + dt.timedelta(minutes=20), replies=1, reopened=True,
                resolved_at=monday5pm + dt.timedelta(minutes=50), sla_state="met"),
        # open, breached, never answered
        _ticket(status="open", sla_state="breached"),
    ]
    result = tickets.summary(found, business)
    assert result["tickets"] == 4 and result["resolved"] == 3
    assert result["by_line"] == {"1": 3, "2": 1}
    assert result["by_class"] == {"how_to": 3, "outage": 1}
    assert result["by_priority"] == {"P1": 1, "P3": 3}
    assert result["resolved_at_line1_rate"] == round(2 / 3, 4)
    assert result["first_contact_resolution_rate"] == round(1 / 3, 4)
    assert result["median_first_response_minutes"] == 20.0          # of 90, 10, 20
    assert result["median_resolution_minutes"] == 50.0              # of 90, 30, 50
    assert result["sla_breach_rate"] == 0.5                         # missed + breached / 4
    assert result["csat"] == 0.5 and result["csat_ratings"] == 2
    assert result["link_rate"] == round(1 / 3, 4)


def test_ticket_metrics_are_null_without_tickets():
    result = tickets.summary([], builtin_calendars()["business"])
    assert result["tickets"] == 0
    assert result["csat"] is result["link_rate"] is result["median_resolution_minutes"] is None
