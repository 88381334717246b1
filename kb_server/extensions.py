"""Flask extensions, created unbound and attached in ``create_app`` (the ``init_app`` pattern)."""
import sqlite3
from pathlib import Path

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate(directory=str(MIGRATIONS_DIR), render_as_batch=True)
limiter = Limiter(key_func=get_remote_address, default_limits=[])   # storage: kb_server.ratelimits
csrf = CSRFProtect()


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


SQLITE_BUSY_TIMEOUT_MS = 30_000


@event.listens_for(Engine, "connect")
def _sqlite_connection(dbapi_connection, _record) -> None:
    """An embedded database is shared by the server's worker processes and its background
    jobs: a writer waits up to ``SQLITE_BUSY_TIMEOUT_MS`` for another's transaction instead of
    failing with "database is locked" after the driver's 5 s on a busy machine. SQLite's
    ``lower()`` folds ASCII only; make it Python's (as PostgreSQL's is), so a case-insensitive
    search finds "Оплата" for "оплата"."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def public_limit():
    """Rate limit for public endpoints (per client address), from ``RATELIMIT_PUBLIC``."""
    return limiter.limit(lambda: current_app.config["RATELIMIT_PUBLIC"])


def contact_limit():
    """The tighter limit on creating tickets (per client address), from ``RATELIMIT_CONTACT``."""
    return limiter.limit(lambda: current_app.config["RATELIMIT_CONTACT"], scope="contact")
