"""Business-hours calendars and SLA states: weekends, holidays, DST changes, pauses, tickets
created outside working hours (instants are passed explicitly: a frozen clock)."""
from __future__ import annotations

import datetime as dt

import pytest

from kb_server.tickets.calendar import CalendarError, make_calendar, parse_calendars
from kb_server.tickets.sla import (Policy, StatusChange, TicketClock, evaluate, merged_table,
                                   sla_actions)

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
BERLIN = make_calendar("office", {
    "time_zone": "Europe/Berlin",
    "hours": {"mon-thu": "09:00-18:00", "fri": "09:00-13:00, 14:00-16:00"},
    "holidays": ["2026-12-24", "12-25", dt.date(2026, 12, 31)],
})


def utc(*args) -> dt.datetime:
    return dt.datetime(*args)   # naive = UTC, as the tables store times


# --- calendar ----------------------------------------------------------------------------------
def test_add_within_a_working_day():
    # Monday 2026-11-30 10:00 Berlin = 09:00 UTC (CET, UTC+1)
    assert BERLIN.add(utc(2026, 11, 30, 9), 2 * H) == utc(2026, 11, 30, 11)


def test_add_runs_over_the_night_and_the_weekend():
    # Friday 2026-12-04 15:00 Berlin (14:00 UTC): one hour left on Friday, then Monday 09:00
    assert BERLIN.add(utc(2026, 12, 4, 14), 3 * H) == utc(2026, 12, 7, 10)


def test_friday_lunch_break_does_not_count():
    # Friday 12:30 Berlin + 1h = 12:30-13:00, then 14:00-14:30
    assert BERLIN.add(utc(2026, 12, 4, 11, 30), H) == utc(2026, 12, 4, 13, 30)


def test_ticket_created_outside_working_hours_starts_at_opening():
    saturday_night = utc(2026, 12, 5, 22)
    assert BERLIN.add(saturday_night, 15 * M) == utc(2026, 12, 7, 8, 15)   # Monday 09:15 Berlin
    assert BERLIN.elapsed(saturday_night, utc(2026, 12, 7, 8)) == dt.timedelta(0)


def test_holidays_dates_and_every_year():
    # Wednesday 2026-12-23 17:00 Berlin + 2h: 24th (date) and 25th (every year) are holidays
    assert BERLIN.add(utc(2026, 12, 23, 16), 2 * H) == utc(2026, 12, 28, 9)
    assert BERLIN.is_holiday(dt.date(2031, 12, 25)) and not BERLIN.is_holiday(dt.date(2031, 12, 24))


def test_dst_change_keeps_local_working_hours():
    # Berlin switches to CEST on Sunday 2026-03-29: Friday 17:00 local is 16:00 UTC, Monday
    # 09:00 local is 07:00 UTC
    assert BERLIN.add(utc(2026, 3, 27, 12), 3 * H) == utc(2026, 3, 30, 8)
    assert BERLIN.elapsed(utc(2026, 3, 27, 12), utc(2026, 3, 30, 8)) == 3 * H


def test_a_24_7_day_of_a_dst_change_has_23_hours():
    always = make_calendar("berlin-24/7", {"time_zone": "Europe/Berlin", "hours": {"mon-sun": "00:00-24:00"}})
    # Sunday 2026-03-29 local midnight (23:00 UTC Saturday) to Monday local midnight (22:00 UTC)
    assert always.elapsed(utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)) == 23 * H
    assert always.add(utc(2026, 3, 28, 23), 23 * H) == utc(2026, 3, 29, 22)


def test_pauses_stop_the_clock():
    start = utc(2026, 11, 30, 9)                       # Monday 10:00 Berlin
    pause = [(utc(2026, 11, 30, 10), utc(2026, 11, 30, 13))]
    assert BERLIN.elapsed(start, utc(2026, 11, 30, 14), pause) == 2 * H
    assert BERLIN.add(start, 2 * H, pause) == utc(2026, 11, 30, 14)
    # an open pause: the clock never reaches the due time
    assert BERLIN.add(start, 2 * H, [(utc(2026, 11, 30, 10), None)]) is None
    assert BERLIN.elapsed(start, utc(2026, 12, 3, 10), [(utc(2026, 11, 30, 10), None)]) == H


def test_overlapping_pauses_count_once():
    start = utc(2026, 11, 30, 9)
    pauses = [(utc(2026, 11, 30, 10), utc(2026, 11, 30, 12)), (utc(2026, 11, 30, 11), utc(2026, 11, 30, 13))]
    assert BERLIN.elapsed(start, utc(2026, 11, 30, 14), pauses) == 2 * H


def test_aware_instants_stay_aware():
    aware = dt.datetime(2026, 11, 30, 10, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert BERLIN.add(aware, H) == dt.datetime(2026, 11, 30, 10, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("spec,message", [
    ({"hours": {"mon": "18:00-09:00"}}, "ends before it starts"),
    ({"hours": {"monday": "09:00-18:00"}}, "bad weekday"),
    ({"hours": {"mon": "9-18"}}, "bad hours"),
    ({"hours": {}}, "no working hours"),
    ({"hours": {"mon": "09:00-18:00"}, "time_zone": "Mars/Base"}, "unknown time zone"),
    ({"hours": {"mon": "09:00-18:00"}, "holidays": ["next friday"]}, "bad holiday"),
])
def test_bad_calendars_are_explained(spec, message):
    with pytest.raises(CalendarError, match=message):
        make_calendar("x", spec)


def test_builtin_calendars_and_the_configured_time_zone():
    calendars = parse_calendars(None, "Asia/Tokyo")
    assert set(calendars) == {"24/7", "business"}
    # Monday 09:00 Tokyo is 00:00 UTC
    assert calendars["business"].add(utc(2026, 11, 29, 12), H) == utc(2026, 11, 30, 1)


# --- SLA states --------------------------------------------------------------------------------
def policy(**changes) -> Policy:
    settings = {"table": merged_table({"P2": {"first_response": "2h", "next_update": "4h",
                                               "resolution": "8h", "calendar": "office"},
                                        "classes": {"outage": {"resolution": "3h"}}}),
                "calendars": {"office": BERLIN, **parse_calendars(None)},
                "pause_statuses": ("pending_user", "pending_third_party"),
                "due_soon_ratio": 0.25,
                "actions": {"due_soon": ["notify"], "breached": ["notify", "escalate"]}}
    return Policy(**{**settings, **changes})


MONDAY_10 = utc(2026, 11, 30, 9)      # Monday 10:00 Berlin


def test_states_over_time():
    clock = TicketClock("P2", MONDAY_10)
    assert evaluate(clock, MONDAY_10 + H, policy()).measures["first_response"].state == "ok"
    soon = evaluate(clock, MONDAY_10 + 95 * M, policy())
    assert soon.measures["first_response"].state == "due_soon" and soon.state == "due_soon"
    late = evaluate(clock, MONDAY_10 + 3 * H, policy())
    assert late.measures["first_response"].state == "breached"
    assert late.measures["first_response"].due == MONDAY_10 + 2 * H
    assert late.measures["first_response"].remaining == -H
    assert late.measures["resolution"].due == MONDAY_10 + 8 * H
    assert late.state == "breached" and late.next_due == MONDAY_10 + 2 * H


def test_first_response_met_then_next_update_runs():
    clock = TicketClock("P2", MONDAY_10, replies=[MONDAY_10 + H])
    status = evaluate(clock, MONDAY_10 + 2 * H, policy())
    assert status.measures["first_response"].state == "met"
    assert status.measures["next_update"].due == MONDAY_10 + 5 * H
    late = TicketClock("P2", MONDAY_10, replies=[MONDAY_10 + 3 * H])
    assert evaluate(late, MONDAY_10 + 4 * H, policy()).measures["first_response"].state == "missed"


def test_next_update_restarts_with_each_reply_on_business_hours():
    # replies Monday 11:00 and Monday 17:00 Berlin: the next update is due Tuesday 12:00 Berlin
    clock = TicketClock("P2", MONDAY_10, replies=[MONDAY_10 + H, MONDAY_10 + 7 * H])
    measure = evaluate(clock, MONDAY_10 + 8 * H, policy()).measures["next_update"]
    assert measure.start == MONDAY_10 + 7 * H and measure.due == utc(2026, 12, 1, 11)


def test_pending_on_user_pauses_resolution_and_next_update():
    history = [StatusChange(MONDAY_10 + H, "open"), StatusChange(MONDAY_10 + 2 * H, "pending_user")]
    clock = TicketClock("P2", MONDAY_10, history=history, replies=[MONDAY_10 + H])
    status = evaluate(clock, utc(2026, 12, 3, 12), policy())       # two days later, still pending
    assert status.measures["resolution"].state == "paused" and status.measures["resolution"].due is None
    assert status.measures["resolution"].remaining == 6 * H
    assert "next_update" not in status.measures
    assert status.state == "paused" and sla_actions(clock, utc(2026, 12, 3, 12), policy()) == []
    # the user answers Thursday 10:00 Berlin: six hours of resolution time left from there
    resumed = TicketClock("P2", MONDAY_10, replies=[MONDAY_10 + H],
                          history=history + [StatusChange(utc(2026, 12, 3, 9), "open")])
    assert evaluate(resumed, utc(2026, 12, 3, 10), policy()).measures["resolution"].due == utc(2026, 12, 3, 15)


def test_resolution_met_and_reopened_ticket_does_not_count_the_resolved_time():
    history = [StatusChange(MONDAY_10 + 2 * H, "resolved")]
    clock = TicketClock("P2", MONDAY_10, history=history, replies=[MONDAY_10 + H])
    assert evaluate(clock, utc(2026, 12, 10), policy()).measures["resolution"].state == "met"
    reopened = TicketClock("P2", MONDAY_10, replies=[MONDAY_10 + H], history=history + [
        StatusChange(utc(2026, 12, 1, 9), "open")])                 # Tuesday 10:00 Berlin
    measure = evaluate(reopened, utc(2026, 12, 1, 10), policy()).measures["resolution"]
    assert measure.remaining == 5 * H and measure.due == utc(2026, 12, 1, 15)   # 16:00 Berlin


def test_class_targets_override_the_priority():
    clock = TicketClock("P2", MONDAY_10, request_class="outage")
    assert evaluate(clock, MONDAY_10, policy()).measures["resolution"].due == MONDAY_10 + 3 * H


def test_actions_fire_once_per_level():
    clock = TicketClock("P2", MONDAY_10)
    assert [a.kind for a in sla_actions(clock, MONDAY_10 + H, policy())] == []
    soon = sla_actions(clock, MONDAY_10 + 95 * M, policy())
    assert [(a.kind, a.target, a.level) for a in soon] == [("notify", "first_response", "due_soon")]
    fired = frozenset(a.key for a in soon)
    clock = TicketClock("P2", MONDAY_10, fired=fired)
    assert sla_actions(clock, MONDAY_10 + 100 * M, policy()) == []
    breached = sla_actions(clock, MONDAY_10 + 3 * H, policy())
    assert [(a.kind, a.level) for a in breached] == [("notify", "breached"), ("escalate", "breached")]


def test_a_later_update_cycle_can_fire_again():
    first = TicketClock("P2", MONDAY_10, replies=[MONDAY_10 + H])
    keys = {a.key for a in sla_actions(first, utc(2026, 12, 1, 12), policy()) if a.target == "next_update"}
    again = TicketClock("P2", MONDAY_10, replies=[MONDAY_10 + H, utc(2026, 12, 1, 12)], fired=frozenset(keys))
    later = sla_actions(again, utc(2026, 12, 2, 12), policy())
    assert any(a.target == "next_update" and a.key not in keys for a in later)


def test_a_missed_target_outranks_a_met_one_once_resolved():
    clock = TicketClock("P2", MONDAY_10, replies=[MONDAY_10 + 3 * H],
                        history=[StatusChange(MONDAY_10 + 4 * H, "resolved")])
    status = evaluate(clock, MONDAY_10 + 5 * H, policy())
    assert status.measures["first_response"].state == "missed"
    assert status.measures["resolution"].state == "met" and status.state == "missed"
