"""Business-hours calendars: when an SLA clock runs.

A calendar is a time zone, working hours per weekday (one or more local ranges a day) and
holidays (local dates, or ``MM-DD`` for every year). Two operations, both with optional
*pauses* (UTC intervals during which the clock stops, e.g. while a ticket waits on the user;
an open pause has ``end=None``):

- ``add(start, amount, pauses)``: the instant when ``amount`` of business time has run from
  ``start`` (a due time); ``None`` if an open pause stops the clock before that;
- ``elapsed(start, end, pauses)``: business time between two instants.

Instants are UTC; a naive datetime is UTC (how the tables store times) and results keep the
naivety of the input. Working hours are local: a day of a DST change has its real length.

Calendars come from the ``SLA_CALENDARS`` YAML file (see ``parse_calendars``); ``24/7`` (always
running) and ``business`` (Monday to Friday, 09:00-18:00 in ``TIME_ZONE``) are built in.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.timezone.utc
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = "24/7"
BUSINESS = "business"
MAX_SEARCH_DAYS = 3 * 366       # a due time further than this is a configuration error
RANGE_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
YEARLY_RE = re.compile(r"^(\d{2})-(\d{2})$")

Interval = tuple[dt.datetime, dt.datetime]
Pause = tuple[dt.datetime, "dt.datetime | None"]
Hours = tuple[tuple[dt.time, dt.time | None], ...]   # local ranges of one weekday; None = 24:00


class CalendarError(ValueError):
    """A calendar definition that cannot be used (reported with the calendar's name)."""


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _like(value: dt.datetime, reference: dt.datetime) -> dt.datetime:
    """``value`` (aware UTC) in the naivety of ``reference``."""
    return value.replace(tzinfo=None) if reference.tzinfo is None else value


@dataclass(frozen=True)
class Calendar:
    name: str
    zone: ZoneInfo
    week: tuple[Hours, ...]                       # index 0 = Monday
    holidays: frozenset[dt.date] = frozenset()
    yearly: frozenset[tuple[int, int]] = frozenset()   # (month, day) of every year

    def is_holiday(self, day: dt.date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly

    def working_intervals(self, start: dt.datetime) -> Iterator[Interval]:
        """Working intervals (aware UTC) from ``start`` on, clipped to it, in order."""
        start = _utc(start)
        day = start.astimezone(self.zone).date() - dt.timedelta(days=1)   # a range may cross midnight UTC
        for _ in range(MAX_SEARCH_DAYS):
            for begin, end in self._day_intervals(day):
                if end > start:
                    yield max(begin, start), end
            day += dt.timedelta(days=1)
        raise CalendarError(f"calendar {self.name!r}: no working time within {MAX_SEARCH_DAYS} days")

    def _day_intervals(self, day: dt.date) -> list[Interval]:
        if self.is_holiday(day):
            return []
        result = []
        for begin, end in self.week[day.weekday()]:
            local_end = (dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), self.zone)
                         if end is None else dt.datetime.combine(day, end, self.zone))
            result.append((dt.datetime.combine(day, begin, self.zone).astimezone(UTC),
                           local_end.astimezone(UTC)))
        return result

    def running(self, start: dt.datetime, pauses: Sequence[Pause] = ()) -> Iterator[Interval]:
        """When the clock runs from ``start``: working intervals minus the pauses."""
        cuts = _merge(pauses)
        for interval in self.working_intervals(start):
            pieces = list(_subtract(interval, cuts))
            yield from pieces
            if cuts and cuts[-1][1] is None and interval[1] > cuts[-1][0]:
                return                           # an open pause: the clock never runs again

    def add(self, start: dt.datetime, amount: dt.timedelta,
            pauses: Sequence[Pause] = ()) -> dt.datetime | None:
        """The instant at which ``amount`` of running time has passed since ``start``."""
        left = amount
        if left <= dt.timedelta(0):
            return start
        for begin, end in self.running(start, pauses):
            if end - begin >= left:
                return _like(begin + left, start)
            left -= end - begin
        return None

    def elapsed(self, start: dt.datetime, end: dt.datetime,
                pauses: Sequence[Pause] = ()) -> dt.timedelta:
        """Running time between ``start`` and ``end`` (zero if ``end`` is not later)."""
        end = _utc(end)
        total = dt.timedelta(0)
        if end <= _utc(start):
            return total
        for begin, finish in self.running(start, pauses):
            if begin >= end:
                break
            total += min(finish, end) - begin
        return total


def _merge(pauses: Iterable[Pause]) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """Pauses as sorted, disjoint aware-UTC intervals (an open one last)."""
    merged: list[list] = []
    for begin, end in sorted(((_utc(b), _utc(e) if e else None) for b, e in pauses),
                             key=lambda p: p[0]):
        if merged and (merged[-1][1] is None or begin <= merged[-1][1]):
            if merged[-1][1] is not None:
                merged[-1][1] = None if end is None else max(merged[-1][1], end)
            continue
        merged.append([begin, end])
    return [(b, e) for b, e in merged]


def _subtract(interval: Interval, cuts: list) -> Iterator[Interval]:
    begin, end = interval
    for cut_begin, cut_end in cuts:
        if cut_end is not None and cut_end <= begin:
            continue
        if cut_begin >= end:
            break
        if cut_begin > begin:
            yield begin, cut_begin
        if cut_end is None:
            return
        begin = max(begin, cut_end)
        if begin >= end:
            return
    yield begin, end


# --- configuration -----------------------------------------------------------------------------
def _zone(name: str, calendar: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"calendar {calendar!r}: unknown time zone {name!r}") from None


def _parse_range(text: str, calendar: str) -> tuple[dt.time, dt.time | None]:
    match = RANGE_RE.match(text.strip())
    if not match:
        raise CalendarError(f"calendar {calendar!r}: bad hours {text!r}: use e.g. 09:00-18:00")
    h1, m1, h2, m2 = map(int, match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise CalendarError(f"calendar {calendar!r}: bad hours {text!r}")
    begin, end = dt.time(h1, m1), None if h2 == 24 else dt.time(h2, m2)
    if end is not None and end <= begin:
        raise CalendarError(f"calendar {calendar!r}: {text!r} ends before it starts")
    return begin, end


def _parse_ranges(value, calendar: str) -> Hours:
    """``"09:00-13:00, 14:00-18:00"``, a list of such strings, or ``closed`` / empty."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    texts = [str(item).strip() for item in items if str(item).strip().lower() not in ("", "closed")]
    return tuple(sorted(_parse_range(text, calendar) for text in texts))


def _weekdays(key: str, calendar: str) -> list[int]:
    """``mon``, ``mon-fri``, ``sat,sun`` -> weekday numbers."""
    days: list[int] = []
    for part in str(key).lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise CalendarError(f"calendar {calendar!r}: bad weekday {key!r}: use mon..sun")
        a, b = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        days += list(range(a, b + 1)) if a <= b else list(range(a, 7)) + list(range(0, b + 1))
    return days


def _holidays(values, calendar: str) -> tuple[frozenset[dt.date], frozenset[tuple[int, int]]]:
    dates, yearly = set(), set()
    for value in values or []:
        if isinstance(value, dt.date):
            dates.add(value)
        elif match := YEARLY_RE.match(str(value).strip()):
            yearly.add((int(match.group(1)), int(match.group(2))))
        else:
            try:
                dates.add(dt.date.fromisoformat(str(value).strip()))
            except ValueError:
                raise CalendarError(f"calendar {calendar!r}: bad holiday {value!r}: use "
                                    "YYYY-MM-DD, or MM-DD for every year") from None
    return frozenset(dates), frozenset(yearly)


def make_calendar(name: str, spec: dict, default_zone: str = "UTC") -> Calendar:
    """A calendar from its settings: ``time_zone``, ``hours`` (weekday or range of weekdays ->
    local ranges), ``holidays`` (dates or ``MM-DD``)."""
    if not isinstance(spec, dict):
        raise CalendarError(f"calendar {name!r}: expected time_zone, hours, holidays")
    unknown = set(spec) - {"time_zone", "hours", "holidays"}
    if unknown:
        raise CalendarError(f"calendar {name!r}: unknown keys {', '.join(sorted(unknown))}")
    week: list[Hours] = [()] * 7
    for key, value in (spec.get("hours") or {}).items():
        for day in _weekdays(key, name):
            week[day] = _parse_ranges(value, name)
    if not any(week):
        raise CalendarError(f"calendar {name!r}: no working hours")
    dates, yearly = _holidays(spec.get("holidays"), name)
    return Calendar(name, _zone(spec.get("time_zone") or default_zone, name), tuple(week),
                    dates, yearly)


def builtin_calendars(time_zone: str = "UTC") -> dict[str, Calendar]:
    return {
        ALWAYS: make_calendar(ALWAYS, {"hours": {"mon-sun": "00:00-24:00"}}),
        BUSINESS: make_calendar(BUSINESS, {"hours": {"mon-fri": "09:00-18:00"}}, time_zone),
    }


def parse_calendars(spec: dict | None, time_zone: str = "UTC") -> dict[str, Calendar]:
    """The built-in calendars and those of ``SLA_CALENDARS`` (name -> settings)::

        office:
          time_zone: Europe/Berlin
          hours: {mon-thu: "09:00-18:00", fri: "09:00-13:00, 14:00-16:00"}
          holidays: [2026-12-24, "12-25", "01-01"]
    """
    calendars = builtin_calendars(time_zone)
    if spec is not None and not isinstance(spec, dict):
        raise CalendarError("SLA_CALENDARS: expected calendar names with their settings")
    for name, settings in (spec or {}).items():
        calendars[str(name)] = make_calendar(str(name), settings, time_zone)
    return calendars
