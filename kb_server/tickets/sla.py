"""SLA due times per priority, in calendar time from the ticket's creation.

Config ``SLA`` (merged over the defaults, per priority)::

    SLA = {"P1": {"first_response": "15m", "resolution": "4h"}, ...}

A duration is minutes as an integer, or a number with a unit: ``m``, ``h`` or ``d``.
"""
from __future__ import annotations

import datetime as dt
import re

from flask import current_app

DEFAULT_SLA = {
    "P1": {"first_response": "15m", "resolution": "4h"},
    "P2": {"first_response": "1h", "resolution": "8h"},
    "P3": {"first_response": "4h", "resolution": "3d"},
    "P4": {"first_response": "1d", "resolution": "10d"},
}
UNITS = {"m": "minutes", "h": "hours", "d": "days"}
DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")


def parse_duration(value: int | str) -> dt.timedelta:
    if isinstance(value, int):
        return dt.timedelta(minutes=value)
    match = DURATION_RE.match(str(value).lower())
    if not match:
        raise ValueError(f"bad SLA duration {value!r}: use e.g. 15m, 4h or 3d")
    return dt.timedelta(**{UNITS[match.group(2)]: float(match.group(1))})


def sla_table() -> dict[str, dict]:
    return {**DEFAULT_SLA, **current_app.config["SLA"]}


def priorities() -> tuple[str, ...]:
    return tuple(sorted(sla_table()))


def due_times(priority: str, start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(first response due, resolution due) for a ticket of ``priority`` created at ``start``."""
    targets = sla_table().get(priority) or DEFAULT_SLA["P4"]
    return (start + parse_duration(targets["first_response"]),
            start + parse_duration(targets["resolution"]))
