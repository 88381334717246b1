"""Staff ticket JSON API (bearer token, see ``kb_server.auth``).

GET /api/v1/tickets?kind=&status=&line=&priority=&page=&per_page=
GET /api/v1/tickets/<reference>
"""
import logging

from flask import Blueprint, jsonify

from kb_server.auth import require_staff_token
from kb_server.extensions import csrf, db
from kb_server.jsonapi import APIError, int_arg, str_arg
from kb_server.tickets import service, sla
from kb_server.models.tickets import KINDS, LINES, STATUSES

log = logging.getLogger(__name__)

bp = Blueprint("tickets", __name__, url_prefix="/api/v1/tickets")
csrf.exempt(bp)   # token-authenticated, no cookies


def _choice(name: str, allowed) -> str:
    value = str_arg(name, max_length=16)
    if value and value not in allowed:
        raise APIError(f"'{name}' must be one of {', '.join(map(str, allowed))}")
    return value


def _filters() -> dict:
    filters = {"kind": _choice("kind", KINDS), "status": _choice("status", STATUSES),
               "priority": _choice("priority", sla.priorities())}
    line = _choice("line", [str(line) for line in LINES])
    filters["line"] = int(line) if line else ""
    return {key: value for key, value in filters.items() if value != ""}


def _process_pending() -> None:
    """Judge due no-click searches first, so the listing is current; never fails the listing."""
    try:
        service.process_pending()
    except Exception:
        db.session.rollback()
        log.exception("processing pending ticket signals failed")


@bp.get("")
@require_staff_token
def list_tickets():
    filters = _filters()
    page, per_page = int_arg("page", 1, maximum=10_000), int_arg("per_page", 20)
    _process_pending()
    tickets, total = service.list_tickets(filters, page, per_page)
    return jsonify({"tickets": [t.to_dict() for t in tickets], "total": total,
                    "page": page, "per_page": per_page, "filters": filters})


@bp.get("/<reference>")
@require_staff_token
def get_ticket(reference: str):
    ticket = service.get_ticket(reference[:16])
    if ticket is None:
        raise APIError(f"no ticket {reference[:16]!r}", 404)
    return jsonify({"ticket": ticket.to_dict(detail=True)})
