"""Line 1 and beyond: ticket metrics, pure functions over ``TicketFacts`` (no database).

Over the contact tickets (a user's request; gap tickets are the content-gap report's) created
in the range:

- ``by_class``, ``by_line``, ``by_priority``: tickets per request class, current support line,
  priority.
- *resolved*: status resolved or closed, with a resolution time.
- ``resolved_at_line1_rate``: resolved tickets that never left line 1 (no escalation) /
  resolved tickets (the support model's target is 70-80 %).
- ``first_contact_resolution_rate``: resolved tickets answered with one reply and never
  reopened / resolved tickets.
- ``median_first_response_minutes``, ``median_resolution_minutes``: medians of the business
  time (the SLA ``business`` calendar: working hours, holidays, its time zone) from creation
  to the first reply, and to resolution.
- ``sla_breach_rate``: tickets whose SLA is breached (open) or was missed (done) / tickets
  with an SLA state.
- ``csat``: "good" ratings / ratings.
- ``link_rate``: resolved tickets linked to at least one article / resolved tickets (what
  counts as a link: ``analytics.links``).
"""
from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from kb_server.analytics.metrics import rate
from kb_server.tickets.calendar import Calendar

DONE = ("resolved", "closed")
BREACHED = ("breached", "missed")


@dataclass(frozen=True)
class TicketFacts:
    """What the metrics need of one ticket (built from its row, messages and audit trail)."""

    status: str
    line: int
    request_class: str
    priority: str
    created_at: dt.datetime
    first_response_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    sla_state: str = ""
    csat_rating: str = ""
    replies: int = 0
    escalated: bool = False
    reopened: bool = False
    linked_articles: frozenset[str] = field(default_factory=frozenset)

    @property
    def resolved(self) -> bool:
        return self.status in DONE and self.resolved_at is not None


def _median_minutes(spans: Iterable[dt.timedelta]) -> float | None:
    minutes = [span.total_seconds() / 60 for span in spans]
    return round(statistics.median(minutes), 1) if minutes else None


def summary(tickets: list[TicketFacts], calendar: Calendar) -> dict:
    """The ticket metrics of ``tickets``, business times on ``calendar``."""
    resolved = [t for t in tickets if t.resolved]
    with_sla = [t for t in tickets if t.sla_state]
    rated = [t for t in tickets if t.csat_rating in ("good", "bad")]
    return {
        "tickets": len(tickets),
        "resolved": len(resolved),
        "by_class": dict(Counter(t.request_class or "unclassified" for t in tickets).most_common()),
        "by_line": {str(line): n for line, n in sorted(Counter(t.line for t in tickets).items())},
        "by_priority": dict(sorted(Counter(t.priority for t in tickets).items())),
        "resolved_at_line1_rate": rate(sum(t.line == 1 and not t.escalated for t in resolved),
                                       len(resolved)),
        "first_contact_resolution_rate": rate(
            sum(t.replies == 1 and not t.reopened for t in resolved), len(resolved)),
        "median_first_response_minutes": _median_minutes(
            calendar.elapsed(t.created_at, t.first_response_at) for t in tickets
            if t.first_response_at),
        "median_resolution_minutes": _median_minutes(
            calendar.elapsed(t.created_at, t.resolved_at) for t in resolved),
        "sla_breach_rate": rate(sum(t.sla_state in BREACHED for t in with_sla), len(with_sla)),
        "csat": rate(sum(t.csat_rating == "good" for t in rated), len(rated)),
        "csat_ratings": len(rated),
        "link_rate": rate(sum(bool(t.linked_articles) for t in resolved), len(resolved)),
    }
