"""The log lines of the long-running ``kb`` commands (``serve``, ``worker``, ``mail serve``):
one line per record on standard error, as text or, with ``KB_LOG_FORMAT=json``, as one JSON
object (python-json-logger) that a log collector reads without parsing rules.

The database migrations every command applies first say nothing unless ``kb --verbose``
(``quiet_migrations``); ``kb db upgrade`` shows them (Alembic's own logging configuration).
"""
from __future__ import annotations

import logging
from contextlib import contextmanager

TEXT_FORMAT = "%(asctime)s %(levelname)s %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"
FORMATS = ("text", "json")


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter
        return JsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level",
                                                         "name": "logger", "process": "pid"})
    return logging.Formatter(TEXT_FORMAT)


def configure(log_format: str) -> None:
    """INFO and above from every logger, in ``log_format`` (``text`` or ``json``); leaves
    logging alone if the process already configured it (a test runner, an embedding app)."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
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
