"""SLA: targets per priority (and request class), measured on business-hours calendars.

Three targets, each a duration of *running* time on the target's calendar (``calendar.py``):

- ``first_response``: from the ticket's creation to the first reply to the user;
- ``next_update``: from the latest reply to the user to the next one, while the ticket is open;
- ``resolution``: from creation to resolved (the time spent resolved does not count if the
  ticket is reopened).

A knowledge-gap or incident ticket has no user waiting for a reply (``ANSWERS_NOBODY``; an
incident's users are answered on their own tickets): its SLA is the
resolution target only.

The clock stops while the ticket's status is one of ``SLA_PAUSE_STATUSES`` (waiting on the user
or a third party). ``evaluate(clock, now)`` gives each target's due time and state (``ok``,
``due_soon``, ``breached``, ``paused``, or ``met`` / ``missed`` once done); ``sla_actions``
decides what a breach or a "due soon" triggers (``SLA_ACTIONS``). The input, ``TicketClock``,
is plain data so the console can feed it from its status history.

Config ``SLA`` (JSON, merged over the defaults; durations are minutes or ``15m``/``4h``/``3d``)::

    {"P1": {"first_response": "15m", "next_update": "1h", "resolution": "4h", "calendar": "24/7"},
     "classes": {"outage": {"resolution": "2h"}}}

A ``classes`` entry overrides the targets of its request class whatever the priority.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Sequence

from flask import current_app

from kb_server.tickets.calendar import Calendar, CalendarError, Pause, parse_calendars

TARGETS = ("first_response", "next_update", "resolution")
REPLY_TARGETS = ("first_response", "next_update")   # the targets of a reply to a waiting user
ANSWERS_NOBODY = ("gap", "incident")               # ticket kinds without such a user
DEFAULT_SLA = {
    "P1": {"first_response": "15m", "next_update": "1h", "resolution": "4h"},
    "P2": {"first_response": "1h", "next_update": "4h", "resolution": "8h"},
    "P3": {"first_response": "4h", "next_update": "1d", "resolution": "3d"},
    "P4": {"first_response": "1d", "next_update": "3d", "resolution": "10d"},
}
DONE_STATUSES = ("resolved", "closed")
LEVELS = ("due_soon", "breached")
ACTIONS = ("notify", "raise_priority", "escalate")
DEFAULT_ACTIONS = {"due_soon": ["notify"], "breached": ["notify"]}
RUNNING_STATES = ("ok", "due_soon", "breached", "paused")
STATE_ORDER = ("breached", "due_soon", "ok", "paused", "missed", "met", "")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}
DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")


def parse_duration(value: int | str) -> dt.timedelta:
    if isinstance(value, int):
        return dt.timedelta(minutes=value)
    match = DURATION_RE.match(str(value).lower())
    if not match:
        raise ValueError(f"bad SLA duration {value!r}: use e.g. 15m, 4h or 3d")
    return dt.timedelta(**{UNITS[match.group(2)]: float(match.group(1))})


# --- input and output ------------------------------------------------------------------------------
@dataclass(frozen=True)
class StatusChange:
    """The ticket entered ``status`` at ``at`` (UTC)."""

    at: dt.datetime
    status: str


@dataclass(frozen=True)
class TicketClock:
    """What the SLA of one ticket depends on. ``history`` lists the status changes after
    creation, oldest first (the ticket is ``new`` from ``created_at``); ``replies`` are the times
    of the replies to the user (the first one is the first response); ``fired`` the keys of the
    SLA actions already taken; ``kind`` the ticket's (one of ``ANSWERS_NOBODY``: no reply
    targets)."""

    priority: str
    created_at: dt.datetime
    request_class: str = ""
    kind: str = ""
    history: Sequence[StatusChange] = ()
    replies: Sequence[dt.datetime] = ()
    fired: frozenset[str] = frozenset()

    @property
    def status(self) -> str:
        return self.history[-1].status if self.history else "new"

    @property
    def first_response_at(self) -> dt.datetime | None:
        return min(self.replies) if self.replies else None


@dataclass(frozen=True)
class Measure:
    """One target of one ticket: ``due`` is None while paused (and for a target met)."""

    target: str
    start: dt.datetime
    due: dt.datetime | None
    state: str
    remaining: dt.timedelta        # running time left (negative: overdue by that much)

    def to_dict(self) -> dict:
        return {"due": _iso(self.due), "state": self.state,
                "remaining_minutes": round(self.remaining.total_seconds() / 60, 1)}


@dataclass(frozen=True)
class SlaStatus:
    measures: dict[str, Measure]

    @property
    def state(self) -> str:
        """The most urgent state of the open targets (``""`` when there is none)."""
        states = [m.state for m in self.measures.values()] or [""]
        return min(states, key=STATE_ORDER.index)

    @property
    def next_due(self) -> dt.datetime | None:
        dues = [m.due for m in self.measures.values() if m.state in RUNNING_STATES and m.due]
        return min(dues) if dues else None

    def to_dict(self) -> dict:
        return {"state": self.state, "next_due": _iso(self.next_due),
                "targets": {name: m.to_dict() for name, m in self.measures.items()}}


@dataclass(frozen=True)
class SlaAction:
    """An action a target's state triggers: ``kind`` is one of ``ACTIONS``; ``key`` names it
    uniquely (target, its start, level, kind) so it is taken once."""

    kind: str
    target: str
    level: str
    key: str


def _iso(value: dt.datetime | None) -> str | None:
    return value.replace(tzinfo=None).isoformat() + "Z" if value else None


# --- policy --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    table: dict
    calendars: dict[str, Calendar]
    default_calendar: str = "24/7"
    pause_statuses: tuple[str, ...] = ("pending",)
    due_soon_ratio: float = 0.2
    actions: dict = field(default_factory=lambda: dict(DEFAULT_ACTIONS))

    def targets(self, priority: str, request_class: str = "") -> dict:
        """The target settings of a priority, with its class's overrides."""
        base = self.table.get(priority) or self.table.get("P4") or {}
        return {**base, **(self.table.get("classes", {}).get(request_class) or {})}

    def duration(self, priority: str, request_class: str, target: str) -> dt.timedelta | None:
        value = self.targets(priority, request_class).get(target)
        return None if value in (None, "") else parse_duration(value)

    def calendar(self, priority: str, request_class: str = "") -> Calendar:
        name = self.targets(priority, request_class).get("calendar") or self.default_calendar
        if name not in self.calendars:
            raise CalendarError(f"SLA: unknown calendar {name!r} (known: {', '.join(self.calendars)})")
        return self.calendars[name]


def merged_table(overrides: dict) -> dict:
    """The built-in targets with ``SLA``'s merged in, per priority and per class."""
    table = {priority: dict(targets) for priority, targets in DEFAULT_SLA.items()}
    for key, targets in (overrides or {}).items():
        if key == "classes":
            table["classes"] = {name: dict(value) for name, value in targets.items()}
        else:
            table[key] = {**table.get(key, {}), **targets}
    return table


def policy_from_config(config) -> Policy:
    return Policy(table=merged_table(config["SLA"]),
                  calendars=parse_calendars(config["SLA_CALENDARS"], config["TIME_ZONE"]),
                  default_calendar=config["SLA_CALENDAR"],
                  pause_statuses=tuple(config["SLA_PAUSE_STATUSES"]),
                  due_soon_ratio=config["SLA_DUE_SOON"], actions=config["SLA_ACTIONS"])


def policy() -> Policy:
    """The policy of the current app's settings."""
    return policy_from_config(current_app.config)


def validate(config) -> None:
    """Raise ``ValueError`` if the SLA settings cannot be used (checked when the app starts)."""
    checked = policy_from_config(config)
    for key, targets in checked.table.items():
        rows = targets.values() if key == "classes" else [targets]
        for row in rows:
            for target in TARGETS:
                if row.get(target) not in (None, ""):
                    parse_duration(row[target])
    for priority in priorities_of(checked):
        for request_class in ("", *checked.table.get("classes", {})):
            checked.calendar(priority, request_class)
    for level, kinds in checked.actions.items():
        if level not in LEVELS or any(kind not in ACTIONS for kind in kinds):
            raise ValueError(f"SLA_ACTIONS: levels are {', '.join(LEVELS)}, actions "
                             f"{', '.join(ACTIONS)}")


def priorities_of(checked: Policy) -> tuple[str, ...]:
    return tuple(sorted(key for key in checked.table if key != "classes"))


def priorities() -> tuple[str, ...]:
    return priorities_of(policy())


def due_times(priority: str, start: dt.datetime, request_class: str = "",
              kind: str = "") -> tuple[dt.datetime | None, dt.datetime]:
    """(first response due, resolution due) of a new ticket of ``kind`` created at ``start``;
    no first response is due on a ticket that answers nobody (``ANSWERS_NOBODY``)."""
    rules = policy()
    calendar = rules.calendar(priority, request_class)
    first = rules.duration(priority, request_class, "first_response") or dt.timedelta(0)
    resolution = rules.duration(priority, request_class, "resolution") or dt.timedelta(0)
    first_due = None if kind in ANSWERS_NOBODY else calendar.add(start, first)
    return first_due, calendar.add(start, resolution)


def start_clock(ticket, start: dt.datetime) -> None:
    """A new ticket's due times and SLA state from its kind, priority and class."""
    ticket.sla_first_response_due, ticket.sla_resolution_due = due_times(
        ticket.priority, start, ticket.request_class, ticket.kind)
    ticket.sla_state = "ok"
    ticket.sla_next_due = ticket.sla_first_response_due or ticket.sla_resolution_due


# --- measuring -----------------------------------------------------------------------------------
def _periods(clock: TicketClock, statuses: Sequence[str]) -> list[Pause]:
    """Intervals during which the ticket's status was one of ``statuses`` (the last may be open)."""
    periods: list[Pause] = []
    began = clock.created_at if "new" in statuses else None
    for change in clock.history:
        inside = change.status in statuses
        if inside and began is None:
            began = change.at
        elif not inside and began is not None:
            periods.append((began, change.at))
            began = None
    if began is not None:
        periods.append((began, None))
    return periods


def _done_at(clock: TicketClock) -> dt.datetime | None:
    """When the ticket became resolved, if it is resolved or closed now."""
    if clock.status not in DONE_STATUSES:
        return None
    done = None
    for change in clock.history:
        if change.status in DONE_STATUSES:
            done = done or change.at
        else:
            done = None
    return done


def _measure(target: str, calendar: Calendar, start: dt.datetime, amount: dt.timedelta,
             pauses: list[Pause], done: dt.datetime | None, now: dt.datetime,
             ratio: float) -> Measure:
    if done is not None:
        spent = calendar.elapsed(start, done, pauses)
        return Measure(target, start, None, "met" if spent <= amount else "missed", amount - spent)
    remaining = amount - calendar.elapsed(start, now, pauses)
    due = calendar.add(start, amount, pauses)
    if remaining <= dt.timedelta(0):
        state = "breached"
    elif due is None:
        state = "paused"
    elif remaining <= amount * ratio:
        state = "due_soon"
    else:
        state = "ok"
    return Measure(target, start, due, state, remaining)


def evaluate(clock: TicketClock, now: dt.datetime, rules: Policy | None = None) -> SlaStatus:
    """Each target's due time and state at ``now``."""
    rules = rules or policy()
    calendar = rules.calendar(clock.priority, clock.request_class)
    pauses = _periods(clock, rules.pause_statuses)
    resolved = _done_at(clock)
    measures: dict[str, Measure] = {}

    def add(target: str, start: dt.datetime, done: dt.datetime | None, extra: list[Pause]):
        if target in REPLY_TARGETS and clock.kind in ANSWERS_NOBODY:
            return
        amount = rules.duration(clock.priority, clock.request_class, target)
        if amount is not None:
            measures[target] = _measure(target, calendar, start, amount, pauses + extra, done,
                                        now, rules.due_soon_ratio)

    closed_periods = _periods(clock, DONE_STATUSES)
    first = clock.first_response_at
    add("first_response", clock.created_at, first or resolved, [])
    if first is not None and resolved is None and clock.status not in rules.pause_statuses:
        latest = max((reply for reply in clock.replies if reply <= now), default=first)
        add("next_update", latest, None, [])
    add("resolution", clock.created_at, resolved, [] if resolved else closed_periods)
    return SlaStatus(measures)


def sla_actions(clock: TicketClock, now: dt.datetime, rules: Policy | None = None) -> list[SlaAction]:
    """The actions due at ``now`` that were not taken yet (``clock.fired``)."""
    rules = rules or policy()
    actions = []
    for measure in evaluate(clock, now, rules).measures.values():
        if measure.state not in LEVELS:
            continue
        for kind in rules.actions.get(measure.state, []):
            key = f"{measure.target}@{_iso(measure.start)}:{measure.state}:{kind}"
            if key not in clock.fired:
                actions.append(SlaAction(kind, measure.target, measure.state, key))
    return actions
