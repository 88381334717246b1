"""A reproducible synthetic event log for the analytics benchmark (``kb bench --analytics``)
and the dashboard's screenshots: sessions as the widget and help center record them.

``generate_events(count, end, days, seed)`` yields about ``count`` event rows (dicts of
``Event`` columns) over the ``days`` UTC days before ``end``, more on weekdays and office hours
(Europe/Berlin); each session types 1-3 searches letter group by letter group (1.6-3 s apart:
the keystroke searches an intent collapses), clicks a result (position 1 most often), views
it, sometimes votes, sometimes contacts support. Queries come from ``bench.synthetic``'s query
set, Zipf-distributed. ``insert_events`` writes them in bulk into SQLite.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from typing import Iterator
from zoneinfo import ZoneInfo

from bench.synthetic import DEFAULT_SEED, generate_queries

ZONE = ZoneInfo("Europe/Berlin")
HOURLY = [1, 1, 1, 1, 1, 2, 4, 7, 11, 13, 13, 12, 10, 11, 12, 12, 11, 9, 7, 6, 5, 4, 3, 2]
WEEKDAY = [10, 10, 10, 10, 9, 4, 3]
SITES = ("", "demo", "shop")
REASONS = ("outdated", "unclear", "not_solved", "other", "")
QUERY_POOL = 3000
CHUNK = 5000


def _query_pool(seed: int) -> tuple[list[tuple[str, str]], list[float]]:
    queries = generate_queries(QUERY_POOL, seed, topics=400)
    weights = list(itertools.accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(queries))))
    return [(q.text, q.language) for q in queries], weights


def _session_start(rng: random.Random, first_day: dt.date, days: int) -> dt.datetime:
    """A start time: a day (weekdays busier), a local hour (office hours busier), UTC."""
    while True:
        day = first_day + dt.timedelta(days=rng.randrange(days))
        if rng.random() * 10 < WEEKDAY[day.weekday()]:
            break
    hour = rng.choices(range(24), HOURLY)[0]
    local = dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)), ZONE)
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _keystrokes(query: str, rng: random.Random) -> list[str]:
    """What search-as-you-type logs on the way to ``query``: a few growing prefixes."""
    words = query.split()
    steps = sorted({rng.randint(1, len(words)) for _ in range(rng.randint(0, 2))} | {len(words)})
    return [" ".join(words[:n]) for n in steps]


def _session(rng: random.Random, number: int, start: dt.datetime, pool, weights) -> list[dict]:
    session_id, site = f"bench{number:08x}", rng.choice(SITES)
    at, rows = start, []

    def add(kind: str, **fields) -> None:
        rows.append({"created_at": at, "kind": kind, "session_id": session_id, "site_key": site,
                     "query": "", "language": language, "result_count": 0, "result_ids": [],
                     "article_id": "", "page_url": "", "user_agent": "", "data": {}, "message": "",
                     **fields})

    language = "en"
    for _ in range(rng.choices((1, 2, 3), (6, 3, 1))[0]):
        query, language = rng.choices(pool, cum_weights=weights)[0]
        found = 0 if rng.random() < 0.12 else rng.randint(1, 10)
        ids = [f"{language}/article-{rng.randrange(4000)}" for _ in range(min(found, 10))]
        for text in _keystrokes(query, rng):
            add("search", query=text, result_count=found, result_ids=ids)
            at += dt.timedelta(seconds=rng.uniform(1.6, 3.0))
        if ids and rng.random() < 0.6:
            article = ids[min(len(ids) - 1, int(rng.expovariate(0.9)))]
            at += dt.timedelta(seconds=rng.uniform(2, 20))
            add("click", query=query, article_id=article)
            add("view", query=query, article_id=article)
            if rng.random() < 0.12:
                at += dt.timedelta(seconds=rng.uniform(10, 120))
                helpful = rng.random() < 0.7
                add("feedback", article_id=article,
                    data={"helpful": helpful, "reason": "" if helpful else rng.choice(REASONS)})
        at += dt.timedelta(seconds=rng.uniform(5, 240))
    if rng.random() < 0.07:
        add("contact", data={})
    return rows


def generate_events(count: int, end: dt.date, days: int = 90,
                    seed: int = DEFAULT_SEED) -> Iterator[dict]:
    """About ``count`` event rows (whole sessions) over the ``days`` days before ``end``."""
    rng = random.Random(f"events:{seed}")
    pool, weights = _query_pool(seed)
    first_day = end - dt.timedelta(days=days)
    made = number = 0
    while made < count:
        rows = _session(rng, number, _session_start(rng, first_day, days), pool, weights)
        number += 1
        made += len(rows)
        yield from rows


COLUMNS = ("created_at", "kind", "session_id", "site_key", "query", "language", "result_count",
           "result_ids", "article_id", "page_url", "user_agent", "data", "message")


def insert_events(connection, rows: Iterator[dict]) -> int:
    """Insert the rows into the ``event`` table of a SQLite database in chunks, through the
    driver (JSON columns serialized here: about 10x faster than the ORM's bulk insert);
    ``connection`` is a SQLAlchemy connection. Returns how many rows."""
    sql = (f"INSERT INTO event ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('?' for _ in COLUMNS)})")
    chunk, total = [], 0
    for row in rows:
        chunk.append((row["created_at"].isoformat(sep=" "), row["kind"], row["session_id"],
                      row["site_key"], row["query"], row["language"], row["result_count"],
                      json.dumps(row["result_ids"]), row["article_id"], row["page_url"],
                      row["user_agent"], json.dumps(row["data"]), row["message"]))
        if len(chunk) == CHUNK:
            connection.exec_driver_sql(sql, chunk)
            total, chunk = total + len(chunk), []
    if chunk:
        connection.exec_driver_sql(sql, chunk)
        total += len(chunk)
    return total
