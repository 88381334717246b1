"""What every model module shares: the naive-UTC clock the tables store."""
from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """Now in UTC, without tzinfo (how the tables store times)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
