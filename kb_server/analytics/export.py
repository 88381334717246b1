"""Every dashboard table and chart as CSV (spreadsheet-safe: a cell that a spreadsheet would
run as a formula, such as a user's query ``=HYPERLINK(...)``, is prefixed with ``'``)."""
from __future__ import annotations

import csv
import io
from typing import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        value = "; ".join(f"{k}: {v}" for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(columns: list[str], rows: Iterable[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(column)) for column in columns])
    return out.getvalue()


def flatten(data: dict, prefix: str = "") -> list[dict]:
    """A nested summary as ``metric, value`` rows (``tickets.by_line.1``)."""
    rows = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += flatten(value, name + ".")
        else:
            rows.append({"metric": name, "value": value})
    return rows


def heatmap_rows(grid: list[list[int]]) -> list[dict]:
    return [{"weekday": day, **{str(hour): grid[index][hour] for hour in range(24)}}
            for index, day in enumerate(WEEKDAYS)]


HEATMAP_COLUMNS = ["weekday"] + [str(hour) for hour in range(24)]
DAILY_COLUMNS = ["day", "searches", "zero_results", "sessions", "deflection_rate", "contacts"]
QUERY_COLUMNS = ["query", "searches", "zero_results", "clicked", "failed", "ctr"]
ARTICLE_COLUMNS = ["article_id", "title", "updated", "views", "votes", "helpful_rate",
                   "not_helpful", "reasons", "contacts_after", "flagged", "stale"]
GAP_COLUMNS = ["reference", "query", "users", "queries", "signals", "languages", "last_seen",
               "write_url", "almost_matched", "answered", "answered_by"]
