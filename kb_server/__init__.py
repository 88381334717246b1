"""Linezero's Flask application: ``create_app()`` wires config, extensions and blueprints.

Nothing here builds an index, loads a model or writes demo data (see Flask's tutorial): the
app opens the index generation being served, if there is one, and the commands that need more
do it themselves (``kb init``, ``kb index``, ``kb serve``; see ``kb_server.cli``).
"""
from __future__ import annotations

from flask import Flask

from kb_server import jsonapi, models, search, security, sites, views  # noqa: F401  (models: register tables)
from kb_server.config import load_config
from kb_server.extensions import csrf, db, limiter, migrate
from kb_server.tickets import sla


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: ``test_config`` overrides the environment."""
    app = Flask(__name__)
    app.config.update(load_config((test_config or {}).get("INSTANCE_DIR")))
    if test_config:
        app.config.update(test_config)
    sla.validate(app.config)  # a broken calendar or SLA table stops the start, not a request

    security.init_app(app)   # headers, trusted proxies (before the limiter reads its config)
    db.init_app(app)
    migrate.init_app(app, db)
    limiter.init_app(app)
    csrf.init_app(app)
    jsonapi.init_app(app)
    sites.init_app(app)      # CORS for the sites' origins
    search.init_app(app)     # opens the served index generation, if any
    views.register(app)
    return app
