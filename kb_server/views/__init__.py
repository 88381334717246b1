"""Every HTTP endpoint, one blueprint per audience.

| module | URL | for |
|---|---|---|
| ``public`` | ``/``, ``/search``, ``/a/...``, ``/c/...``, ``/contact`` | the help-center pages |
| ``api`` | ``/api/v1/search``, ``/suggest``, ``/articles``, ``/health``... | the public JSON API |
| ``widget`` | ``/widget.js``, ``/demo``, ``/api/v1/widget/config`` | the embeddable widget |
| ``capture`` | ``/api/v1/events``, ``/feedback``, ``/contact`` | what users did (tickets' input) |
| ``tickets`` | ``/api/v1/tickets``, ``/users``, ``/macros``, ``/me`` | the staff API (personal tokens) |
| ``articles_api`` | ``/api/v1/articles`` (the staff one: numeric ids), its writes | authoring in the staff API (personal tokens) |
| ``analytics`` | ``/api/v1/analytics/...`` | analytics JSON and CSV (analysts: token or console session) |
| ``console`` | ``/console/...`` | the staff console (login, queue, tickets, users) |
| ``console_analytics`` | ``/console/analytics/...`` | the console's analytics pages (on ``console``'s blueprint) |
| ``console_articles`` | ``/console/articles/...``, ``/media/<name>`` | authoring (on the console blueprint), uploaded files |
| ``ops`` | ``/livez``, ``/readyz``, ``/metrics`` | load balancers and Prometheus |
| ``requester`` | ``/t/<signed token>`` | a ticket's page for its user: conversation, reply, rating |
"""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from kb_server.views import (analytics, api, articles_api, capture, console, console_articles,
                                 ops, public, requester, tickets, widget)
    from kb_server.views import console_analytics  # noqa: F401  (its pages join console's blueprint)
    for module in (public, api, widget, tickets, articles_api, capture, console, requester, ops, analytics):
        app.register_blueprint(module.bp)
    app.register_blueprint(console_articles.media_bp)
