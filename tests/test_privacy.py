"""Personal data: retention, erasing one person, the database file's mode."""
from __future__ import annotations

import datetime as dt
import os
import stat

from kb_server.cli import main
from kb_server.extensions import db
from kb_server.models import Event, Ticket, utcnow
from tests.tickets_helpers import STAFF, add_event, post, search

ANNA = {"session_id": "anna-1", "email": "Anna@Example.com", "name": "Anna",
        "message": "My invoice shows my home address", "page_url": "https://app.example/billing"}


def _ticket(app, reference: str) -> Ticket:
    with app.app_context():
        return db.session.scalars(db.select(Ticket).filter_by(reference=reference)).one()


def test_erase_removes_a_persons_tickets_and_session_events(app, client, runner):
    search(client, "anna-1", "invoice address")
    reference = post(client, "contact", ANNA).get_json()["ticket"]["reference"]
    search(client, "bob-1", "export data")
    other = post(client, "contact", {**ANNA, "session_id": "bob-1", "email": "bob@example.com",
                                     "name": "Bob"}).get_json()["ticket"]["reference"]
    with app.app_context():                      # her follow-up is still due (its job was lost)
        db.session.execute(db.update(Ticket).filter_by(reference=reference).values(
            follow_up_due=utcnow(), follow_up_text=ANNA["message"]))
        db.session.commit()
    result = runner.invoke(main, ["privacy", "erase", "--email", "anna@example.com"])
    assert result.exit_code == 0, result.output
    assert "tickets erased: 1, events deleted: 2, sessions: 1" in result.output
    erased = _ticket(app, reference)
    assert (erased.email, erased.name, erased.page_url, erased.user_agent) == ("", "", "", "")
    assert erased.message == "(erased)" and erased.context == {}
    assert (erased.follow_up_due, erased.follow_up_text) == (None, "")   # nothing left to class
    assert erased.kind == "contact" and erased.priority   # the statistics stay
    with app.app_context():
        sessions = set(db.session.scalars(db.select(Event.session_id)))
    assert sessions == {"bob-1"}
    assert _ticket(app, other).email == "bob@example.com"
    assert client.get(f"/api/v1/tickets/{reference}", headers=STAFF).get_json()["ticket"]["email"] == ""


def test_retention_deletes_old_events_and_erases_long_closed_tickets(app, client, runner):
    old = add_event(app, minutes_ago=200 * 24 * 60, kind="search", session_id="s-old", query="q")
    recent = add_event(app, minutes_ago=10, kind="search", session_id="s-new", query="q")
    reference = post(client, "contact", ANNA).get_json()["ticket"]["reference"]
    open_reference = post(client, "contact", {**ANNA, "session_id": "anna-2"}).get_json()["ticket"]["reference"]
    with app.app_context():
        for ticket in db.session.scalars(db.select(Ticket).filter_by(reference=reference)):
            ticket.status = "closed"
        db.session.commit()
        db.session.execute(db.update(Ticket).where(Ticket.reference == reference)
                           .values(updated_at=utcnow() - dt.timedelta(days=400)))
        db.session.commit()
    result = runner.invoke(main, ["privacy", "retention"])
    assert result.exit_code == 0, result.output
    assert "events deleted: 1, tickets erased: 1" in result.output
    with app.app_context():
        ids = set(db.session.scalars(db.select(Event.id)))
    assert old not in ids and recent in ids
    assert _ticket(app, reference).email == ""
    assert _ticket(app, open_reference).email == "Anna@Example.com"


def test_the_database_file_is_readable_by_its_owner_only(template):
    mode = stat.S_IMODE(os.stat(template / "test.db").st_mode)
    assert mode == 0o600
