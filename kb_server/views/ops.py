"""Endpoints for the machines that run the help center: liveness, readiness, metrics.

``/livez`` answers while the process can answer at all; ``/readyz`` only when it can serve
(keyword index open, database reachable, and on a node that follows the shared knowledge base,
its first catch-up over: ``kb_server.follow``), so a load balancer sends traffic to ready nodes
only; ``/metrics`` is Prometheus text, for loopback clients or a bearer ``KB_METRICS_TOKEN``.
"""
from __future__ import annotations

import hmac
import ipaddress

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, request

from kb_server import follow, metrics, search
from kb_server.extensions import db

bp = Blueprint("ops", __name__)


@bp.get("/livez")
def livez():
    return jsonify({"ok": True})


@bp.get("/readyz")
def readyz():
    following = follow.status(current_app.config)
    checks = {"keyword_index": search.health()["keyword"] == "ok", "database": _database_answers()}
    if following is not None:
        checks["caught_up"] = following["caught_up"]
    ready = all(checks.values())
    return jsonify({"ok": ready, "checks": checks}), 200 if ready else 503


def _database_answers() -> bool:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.SQLAlchemyError:
        current_app.logger.exception("readiness: the database does not answer")
        return False
    finally:
        db.session.remove()


def _may_scrape() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    if token:
        return hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}")
    return ipaddress.ip_address(request.remote_addr or "0.0.0.0").is_loopback


@bp.get("/metrics")
def prometheus():
    if not _may_scrape():
        return jsonify({"error": "metrics are for loopback clients or the metrics token",
                        "status": 403}), 403
    return Response(metrics.exposition(current_app._get_current_object()),
                    content_type="text/plain; version=0.0.4; charset=utf-8")
