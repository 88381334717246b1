"""Rate limits (Flask-Limiter): per-process memory by default, shared through Redis when
``KB_REDIS_URL`` is set, so every worker and app server counts against one limit.

When Redis is unreachable, Flask-Limiter logs it and counts in this process's memory instead
(the same limits, no longer shared) until Redis answers again: a Redis outage never turns a
request into a 500. ``status()`` is what ``/api/v1/health`` shows of it.
"""
from __future__ import annotations

from flask import Flask, current_app

from kb_server.extensions import limiter

# A Redis that does not answer must not hold requests: fail fast, then serve from memory.
REDIS_TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


def init_app(app: Flask) -> None:
    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", REDIS_TIMEOUTS)
        app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)   # Retry-After on every 429
    limiter.init_app(app)


def status() -> dict:
    """Where limits are counted, and whether that storage answers (a ping: cheap on Redis).
    ``shared`` is false when counting falls back to this process's memory."""
    scheme = current_app.config["RATELIMIT_STORAGE_URI"].split(":", 1)[0]
    if scheme == "memory":
        return {"storage": "memory", "shared": False, "ok": True}
    try:
        ok = bool(limiter.storage.check())
    except Exception:   # noqa: BLE001 -- any storage error means "not answering"
        ok = False
    return {"storage": scheme, "shared": ok, "ok": ok}
