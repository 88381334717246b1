"""The log lines of the long-running ``kb`` commands (``serve``, ``worker``, ``mail serve``):
one line per record on standard error, as text or, with ``KB_LOG_FORMAT=json``, as one JSON
object (python-json-logger) that a log collector reads without parsing rules.

The database migrations every command applies first say nothing unless ``kb --verbose``
(``quiet_migrations``); ``kb db upgrade`` shows them (Alembic's own logging configuration).
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Callable

TEXT_FORMAT = "%(asctime)s %(levelname)s %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"
FORMATS = ("text", "json")
REPEAT_WINDOW_SECONDS = 60


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter
        return JsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level",
                                                         "name": "logger", "process": "pid"})
    return logging.Formatter(TEXT_FORMAT)


class RepeatedTracebacks(logging.Filter):
    """Lets one traceback of a kind through per ``window`` seconds: a failure that repeats in a
    loop (huey's consumer threads retry Redis every second while it is down) writes one record,
    and the next after the window says how many were left out. A kind is the logger, the level,
    the message template and the exception's type; records without a traceback all pass."""

    def __init__(self, window: float = REPEAT_WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.window, self.clock = window, clock
        self.kinds: dict[tuple, list] = {}          # kind -> [time let through, left out since]

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or record.exc_info[0] is None:
            return True
        kind = (record.name, record.levelno, str(record.msg), record.exc_info[0])
        now = self.clock()
        seen = self.kinds.get(kind)
        if seen is not None and now - seen[0] < self.window:
            seen[1] += 1
            return False
        if seen is not None and seen[1]:
            record.msg = f"{record.msg} ({seen[1]} more like it in the last {self.window:g} s)"
        self.kinds[kind] = [now, 0]
        return True


def configure(log_format: str) -> None:
    """INFO and above from every logger, in ``log_format`` (``text`` or ``json``), a repeated
    traceback once a minute (``RepeatedTracebacks``); leaves logging alone if the process
    already configured it (a test runner, an embedding app)."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RepeatedTracebacks())
    logging.basicConfig(level=logging.INFO, handlers=[handler])


MIGRATIONS = logging.getLogger("alembic")


def verbose() -> None:
    """``kb --verbose``: the migrations' INFO lines on standard error too."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)-5.5s [%(name)s] %(message)s"))
    MIGRATIONS.addHandler(handler)
    MIGRATIONS.propagate = False       # (once, whatever logging a command sets up later)
    MIGRATIONS.setLevel(logging.INFO)


@contextmanager
def quiet_migrations():
    """Alembic's INFO lines ("Context impl SQLiteImpl", "Running upgrade ...") left out, unless
    ``verbose()`` asked for them: warnings and errors only."""
    if MIGRATIONS.level != logging.NOTSET:    # verbose, or configured by the application
        yield
        return
    MIGRATIONS.setLevel(logging.WARNING)
    try:
        yield
    finally:
        MIGRATIONS.setLevel(logging.NOTSET)
