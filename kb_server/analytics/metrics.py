"""The analytics definitions: pure functions over event rows (no database, no Flask).

An *event row* is anything with the ``Event`` columns used here: ``created_at`` (naive UTC),
``kind`` (search, click, view, feedback, contact), ``session_id``, ``query``, ``result_count``,
``result_ids``, ``article_id``, ``data``. Definitions (the README's "Analytics" repeats them):

- **Session** (a visit): a browser session's events, cut where nothing happened for
  ``SESSION_GAP`` (30 minutes): an event exactly 30 minutes after the previous one starts a new
  session.
- **Search intent**: a session's successive searches, each extending the one before (one query
  is a prefix of the other, compared lowercased with spaces collapsed) and made within
  ``INTENT_GAP`` of it, are one intent (search-as-you-type logs "res", "reset", "reset pass");
  the intent's query and results are those of its last search. ``searches`` counts intents.
- A **click** belongs to the latest intent of its session started at or before it; its
  **position** is the article's 1-based rank in the results of the newest search of that intent
  that showed it.
- ``zero_result_rate`` = intents with no results / intents; ``no_click_rate`` = intents with
  results and no click / intents with results; ``ctr`` = intents with results and at least one
  click / intents with results (None when no intent had results); ``mean_click_position``.
- ``deflection_rate`` = sessions with a search or an article view that did not end in a
  contact / sessions with a search or an article view.
- ``helpful_rate`` = "helpful" votes / votes.
- ``self_service_score`` = self-service users / users who created tickets (Zendesk's ratio),
  both counted per day and summed over the range (users are anonymous browsers, people with
  tickets their e-mail addresses; ``report.py``): a browser active on three days counts three
  times, which keeps a range the sum of its days.

Counts add up (``Counts.__add__``), so a range is the sum of its days (see ``rollup.py``).
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Iterable, Sequence

INTENT_GAP = dt.timedelta(seconds=10)
SESSION_GAP = dt.timedelta(minutes=30)
SELF_SERVICE_KINDS = ("search", "view")
QUARTERS = 96                      # quarter hours a day: every time zone's offset is a multiple
_SPACES = re.compile(r"\s+")


# --- sessions and intents ----------------------------------------------------------------------
def normalize_query(query: str) -> str:
    return _SPACES.sub(" ", (query or "").strip().lower())


def extends(previous: str, current: str) -> bool:
    """Whether two normalized queries extend one another (typing on, or backspacing)."""
    return bool(previous and current) and (current.startswith(previous) or previous.startswith(current))


def sessions(events: Iterable) -> list[list]:
    """The events cut into sessions: by ``session_id``, then at every ``SESSION_GAP`` of
    inactivity; each session's events in time order."""
    ordered = sorted(events, key=lambda e: (e.session_id or "", e.created_at, getattr(e, "id", 0) or 0))
    result: list[list] = []
    for event in ordered:
        current = result[-1] if result else None
        if (current is None or not event.session_id or current[-1].session_id != event.session_id
                or event.created_at - current[-1].created_at >= SESSION_GAP):
            result.append([event])
        else:
            current.append(event)
    return result


@dataclass
class Intent:
    """One thing searched for: the searches that typed it, and the clicks that followed."""

    searches: list
    clicks: list = field(default_factory=list)

    @property
    def started_at(self) -> dt.datetime:
        return self.searches[0].created_at

    @property
    def last(self):
        return self.searches[-1]

    @property
    def query(self) -> str:
        return normalize_query(self.last.query)

    @property
    def result_count(self) -> int:
        return self.last.result_count or 0

    def position(self, article_id: str) -> int | None:
        """The article's rank in the newest search of the intent that showed it."""
        for search in reversed(self.searches):
            ids = list(search.result_ids or [])
            if article_id in ids:
                return ids.index(article_id) + 1
        return None

    @property
    def clicked(self) -> bool:
        return self.result_count > 0 and bool(self.clicks)


def session_intents(session: Sequence) -> list[Intent]:
    """The intents of one session (events in time order), with their clicks attributed."""
    intents: list[Intent] = []
    for event in session:
        if event.kind == "search":
            current = intents[-1] if intents else None
            if (current is not None and event.created_at - current.last.created_at < INTENT_GAP
                    and extends(normalize_query(current.last.query), normalize_query(event.query))):
                current.searches.append(event)
            else:
                intents.append(Intent([event]))
        elif event.kind == "click" and intents:
            intents[-1].clicks.append(event)
    return intents


# --- additive counts ---------------------------------------------------------------------------
@dataclass
class Counts:
    """What a range of events adds up to (every field is a sum)."""

    searches: int = 0                 # intents
    zero_results: int = 0
    with_results: int = 0
    clicked: int = 0                  # intents with results and at least one click
    click_position_sum: int = 0
    click_positions: int = 0
    sessions: int = 0
    self_service_sessions: int = 0    # with a search or an article view
    deflected_sessions: int = 0       # ... that did not end in a contact
    views: int = 0
    votes: int = 0
    helpful: int = 0
    contacts: int = 0
    users: int = 0                    # distinct browsers with a search or view (per day)

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def rates(self) -> dict:
        return {
            "searches": self.searches,
            "zero_result_rate": rate(self.zero_results, self.searches),
            "no_click_rate": rate(self.with_results - self.clicked, self.with_results),
            "ctr": rate(self.clicked, self.with_results),
            "mean_click_position": rate(self.click_position_sum, self.click_positions, 2),
            "sessions": self.sessions,
            "deflection_rate": rate(self.deflected_sessions, self.self_service_sessions),
            "article_views": self.views,
            "votes": self.votes,
            "helpful_rate": rate(self.helpful, self.votes),
            "contacts": self.contacts,
            "self_service_users": self.users,
        }


def rate(numerator: float, denominator: float, digits: int = 4) -> float | None:
    """``numerator / denominator`` rounded, or None when there is nothing to divide by."""
    return round(numerator / denominator, digits) if denominator else None


def session_counts(session: Sequence, found: list[Intent]) -> Counts:
    """The counts of one session and its intents."""
    kinds = {event.kind for event in session}
    self_service = bool(kinds & set(SELF_SERVICE_KINDS))
    counts = Counts(sessions=1, self_service_sessions=int(self_service),
                    deflected_sessions=int(self_service and "contact" not in kinds),
                    searches=len(found))
    for intent in found:
        counts.zero_results += intent.result_count == 0
        counts.with_results += intent.result_count > 0
        counts.clicked += intent.clicked
        for click in intent.clicks:
            position = intent.position(click.article_id)
            if position is not None:
                counts.click_position_sum += position
                counts.click_positions += 1
    for event in session:
        counts.views += event.kind == "view"
        counts.contacts += event.kind == "contact"
        if event.kind == "feedback":
            counts.votes += 1
            counts.helpful += bool((event.data or {}).get("helpful"))
    return counts


def self_service_browser(session: Sequence) -> str:
    """The browser (session id) of a session with a search or an article view, else ""."""
    if any(event.kind in SELF_SERVICE_KINDS for event in session):
        return session[0].session_id or ""
    return ""


def count(events: Iterable) -> Counts:
    """The counts of a set of events (one day's: ``users`` counts distinct browsers)."""
    total, browsers = Counts(), set()
    for session in sessions(events):
        total += session_counts(session, session_intents(session))
        browsers.add(self_service_browser(session))
    total.users = len(browsers - {""})
    return total


# --- queries and articles ----------------------------------------------------------------------
@dataclass
class QueryCounts:
    searches: int = 0
    zero_results: int = 0
    clicked: int = 0

    def add(self, intent: Intent) -> None:
        self.searches += 1
        self.zero_results += intent.result_count == 0
        self.clicked += intent.clicked


@dataclass
class ArticleCounts:
    views: int = 0
    helpful: int = 0
    not_helpful: int = 0
    contacts_after: int = 0           # sessions that viewed it, then contacted support
    reasons: Counter = field(default_factory=Counter)   # "not helpful" reasons


def article_counts(session_list: Iterable[Sequence]) -> dict[str, ArticleCounts]:
    """Views, votes, "not helpful" reasons per article, and the sessions that read an article
    and then contacted support (each article once per session)."""
    result: dict[str, ArticleCounts] = {}
    for session in session_list:
        read: set[str] = set()
        blamed: set[str] = set()
        for event in session:
            if event.kind in ("view", "feedback") and event.article_id:
                entry = result.setdefault(event.article_id, ArticleCounts())
                if event.kind == "view":
                    entry.views += 1
                    read.add(event.article_id)
                elif (event.data or {}).get("helpful"):
                    entry.helpful += 1
                else:
                    entry.not_helpful += 1
                    entry.reasons[(event.data or {}).get("reason") or "unspecified"] += 1
            elif event.kind == "contact":
                for article_id in read - blamed:
                    result[article_id].contacts_after += 1
                blamed |= read
    return result


# --- time --------------------------------------------------------------------------------------
def quarter_of(moment: dt.datetime) -> int:
    """The quarter hour of the (UTC) day that ``moment`` falls in: 0..95."""
    return moment.hour * 4 + moment.minute // 15


def heatmap(counts_by_quarter: Iterable[tuple[dt.datetime, int]], zone) -> list[list[int]]:
    """7 x 24 counts (Monday first, local hours) of ``(UTC quarter-hour start, count)`` pairs
    seen in the time zone ``zone`` (a ``ZoneInfo``): every offset in use is a multiple of 15
    minutes, so a quarter hour falls in one local hour, DST included."""
    grid = [[0] * 24 for _ in range(7)]
    for start, value in counts_by_quarter:
        local = start.replace(tzinfo=dt.timezone.utc).astimezone(zone)
        grid[local.weekday()][local.hour] += value
    return grid
