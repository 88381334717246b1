"""Linezero's Flask application: ``create_app()`` wires config, database, search and blueprints."""
from __future__ import annotations

from flask import Flask

from kb_server import jsonapi, search
from kb_server.config import load_config
from kb_server.extensions import csrf, db, limiter


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory (see Flask's tutorial): ``test_config`` overrides the environment."""
    app = Flask(__name__)
    app.config.update(load_config((test_config or {}).get("INSTANCE_DIR")))
    if test_config:
        app.config.update(test_config)

    db.init_app(app)
    limiter.init_app(app)
    csrf.init_app(app)
    jsonapi.init_app(app)
    search.init_app(app)

    from kb_server import api, public, widget_api
    from kb_server.tickets import events as tickets_events, views as tickets_views

    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(widget_api.bp)
    app.register_blueprint(tickets_views.bp)
    app.register_blueprint(tickets_events.bp)

    with app.app_context():
        from kb_server import models  # noqa: F401  (register tables)
        db.create_all()
    from kb_server import sites
    sites.init_app(app)   # CORS for the sites' origins, the demo site
    return app
