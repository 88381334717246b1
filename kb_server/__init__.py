"""Linezero's Flask application: ``create_app()`` wires config, extensions and blueprints.

Nothing here builds an index, loads a model or writes demo data (see Flask's tutorial): the
app opens the index generation being served, if there is one, and the commands that need more
do it themselves (``kb init``, ``kb index``, ``kb serve``; see ``kb_server.cli``).
"""
from __future__ import annotations

from flask import Flask

from kb_server import authoring, intake, jobs, jsonapi, metrics, models, ratelimits, search, security, sites, views  # noqa: F401  (models: register tables)
from kb_server.config import load_config
from kb_server.auth import login_manager
from kb_server.extensions import csrf, db, migrate
from kb_server.tickets import sla


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: ``test_config`` overrides the environment."""
    app = Flask(__name__)
    app.config.update(load_config((test_config or {}).get("INSTANCE_DIR")))
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
                      REMEMBER_COOKIE_SECURE=app.config["SESSION_COOKIE_SECURE"])
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})  # a restarted
    if test_config:                                      # database costs no failed request
        app.config.update(test_config)
    sla.validate(app.config)  # a broken calendar or SLA table stops the start, not a request

    security.init_app(app)   # headers, trusted proxies (before the limiter reads its config)
    db.init_app(app)
    migrate.init_app(app, db)
    ratelimits.init_app(app) # memory, or Redis shared by every worker and node
    authoring.init_app(app)  # the editor's larger body limit (before CSRF reads the form)
    csrf.init_app(app)
    login_manager.init_app(app)   # staff console sessions (kb_server.auth)
    jsonapi.init_app(app)
    metrics.init_app(app)    # Prometheus: request and search latency (/metrics)
    sites.init_app(app)      # CORS for the sites' origins
    search.init_app(app)     # opens the served index generation, if any
    jobs.init_app(app)       # background jobs: SQLite in the instance folder, or Redis
    intake.init_app(app)     # events written in batches, contacts spooled while the DB is down
    views.register(app)
    return app
