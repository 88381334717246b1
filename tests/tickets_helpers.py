"""Helpers for the event and ticket tests: post events as the widget does, or store events
with chosen times directly."""
from __future__ import annotations

import datetime as dt

from kb_server.extensions import db
from kb_server.models import Event, Site, utcnow
from kb_server.models.tickets import Ticket

STAFF = {"Authorization": "Bearer test-token"}
UA = "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0"


def post(client, path: str, body: dict, **headers):
    return client.post(f"/api/v1/{path}", json=body, headers={"User-Agent": UA, **headers})


def search(client, session: str, query: str, results: list[str] | None = None, **extra):
    results = results or []
    body = {"session_id": session, "kind": "search", "query": query,
            "result_count": len(results), "result_ids": results, **extra}
    response = post(client, "events", body)
    assert response.status_code == 201, response.get_json()
    return response


def add_event(app, minutes_ago: float = 0, **fields) -> int:
    """Store an event as if it had arrived ``minutes_ago`` (no arrival rules run)."""
    with app.app_context():
        event = Event(created_at=utcnow() - dt.timedelta(minutes=minutes_ago), **fields)
        db.session.add(event)
        db.session.commit()
        return event.id


def add_site(app, key: str = "acme") -> None:
    with app.app_context():
        db.session.add(Site(key=key, name="Acme", origins=["https://acme.example"]))
        db.session.commit()


def gap_tickets(app) -> list[dict]:
    with app.app_context():
        tickets = db.session.scalars(db.select(Ticket).filter_by(kind="gap")
                                     .order_by(Ticket.id)).all()
        return [t.to_dict(detail=True) for t in tickets]


def database_down(monkeypatch) -> None:
    """Storing a contact fails as when the database is unreachable (it is then spooled)."""
    from sqlalchemy.exc import OperationalError
    from kb_server.tickets import service

    def refuse(*args, **kwargs):
        raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))
    monkeypatch.setattr(service, "create_contact_ticket", refuse)
