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


@event.listens_for(Engine, "connect")
def _sqlite_unicode_lower(dbapi_connection, _record) -> None:
    """SQLite's ``lower()`` folds ASCII only; make it Python's (as PostgreSQL's is), so a
    case-insensitive search finds "Оплата" for "оплата"."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def public_limit():
    """Rate limit for public endpoints (per client address), from ``RATELIMIT_PUBLIC``."""
    return limiter.limit(lambda: current_app.config["RATELIMIT_PUBLIC"])


def contact_limit():
    """The tighter limit on creating tickets (per client address), from ``RATELIMIT_CONTACT``."""
    return limiter.limit(lambda: current_app.config["RATELIMIT_CONTACT"], scope="contact")
