"""kb_server.intake: events written in batches, contacts spooled while the database is down."""
from __future__ import annotations

import shutil
import time

import pytest

from kb_server import intake
from kb_server.extensions import db
from kb_server.models import Event
from kb_server.models.tickets import Ticket
from kb_server.tickets import service
from tests.conftest import app_config
from tests.tickets_helpers import database_down, post, search

CONTACT = {"session_id": "s1", "email": "anna@example.com", "name": "Anna",
           "message": "Where do I find my invoices?", "language": "en"}


@pytest.fixture
def buffered_app(tmp_path, articles_dir, template):
    """An app that buffers events (flushed every 60 s, or at 3 waiting) and drains its contact
    spool at the same pace."""
    from kb_server import create_app
    shutil.copytree(template / "index", tmp_path / "index")
    shutil.copy2(template / "test.db", tmp_path / "test.db")
    app = create_app(app_config(tmp_path, EVENTS_FLUSH_SECONDS=60, EVENTS_BATCH=3))
    yield app
    app.extensions["intake"].stopping = True
    app.extensions["intake"].wake.set()


def count(app, model) -> int:
    with app.app_context():
        return db.session.query(model).count()


def test_events_wait_in_the_buffer_until_the_flush(buffered_app):
    client = buffered_app.test_client()
    search(client, "s", "nothing matches this")
    search(client, "s", "reset password", ["en/reset-password"])
    assert count(buffered_app, Event) == 0
    with buffered_app.app_context():
        assert intake.intake().flush() == 2
    assert count(buffered_app, Event) == 2
    # the arrival rule ran on the flushed zero-result search: a gap ticket
    assert count(buffered_app, Ticket) == 1


def test_a_full_batch_is_written_without_waiting(buffered_app):
    client = buffered_app.test_client()
    for n in range(3):
        search(client, "s", f"query {n}", ["en/reset-password"])
    deadline = time.monotonic() + 10
    while count(buffered_app, Event) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count(buffered_app, Event) == 3


def test_shutdown_writes_what_is_buffered(buffered_app):
    search(buffered_app.test_client(), "s", "invoice", ["en/reset-password"])
    intake.close(buffered_app)
    assert count(buffered_app, Event) == 1


def test_contact_context_has_the_sessions_buffered_searches(buffered_app):
    client = buffered_app.test_client()
    search(client, "s1", "where are invoices")
    response = post(client, "contact", CONTACT)
    assert response.status_code == 201
    with buffered_app.app_context():
        ticket = db.session.query(Ticket).filter_by(kind="contact").one()
        assert [q["query"] for q in ticket.context["queries"]] == ["where are invoices"]
        assert db.session.query(Ticket).filter_by(kind="gap").count() == 0   # not in the request
        intake.intake().flush()             # the rules ran on the search written for the contact
        assert db.session.query(Ticket).filter_by(kind="gap").count() == 1


def test_contact_is_spooled_while_the_database_is_down_then_stored(buffered_app, monkeypatch):
    app = buffered_app                   # its flusher sleeps 60 s: the drain below is the only one
    with monkeypatch.context() as patch:
        database_down(patch)
        response = post(app.test_client(), "contact", CONTACT)
    assert response.status_code == 202
    assert response.get_json()["queued"] is True and "no need to send it again" in response.get_json()["message"]
    [spooled] = intake.spooled(app)
    assert "invoices" in spooled.read_text()
    assert count(app, Ticket) == 0
    with app.app_context():
        assert intake.drain_spool(app) == 1
        ticket = db.session.query(Ticket).filter_by(kind="contact").one()
        assert (ticket.email, ticket.message) == ("anna@example.com", CONTACT["message"])
        assert ticket.reference
    assert intake.spooled(app) == []


@pytest.mark.parametrize("body, headers, says", [
    ({"language": "ru"}, {}, "отправлять его ещё раз не нужно"),
    ({"language": "uk-UA"}, {"Accept-Language": "ru"}, "надсилати його ще раз не потрібно"),
    ({"language": "de"}, {"Accept-Language": "uk,en;q=0.5"}, "надсилати його ще раз не потрібно"),
    ({"language": ""}, {}, "no need to send it again"),
])
def test_the_kept_contacts_answer_speaks_the_users_language(app, monkeypatch, body, headers, says):
    database_down(monkeypatch)
    response = post(app.test_client(), "contact", {**CONTACT, **body}, **headers)
    assert response.status_code == 202
    assert says in response.get_json()["message"]


def test_spool_stays_while_the_database_is_still_down(app, monkeypatch):
    database_down(monkeypatch)
    assert post(app.test_client(), "contact", CONTACT).status_code == 202
    with app.app_context():
        assert intake.drain_spool(app) == 0
    assert len(intake.spooled(app)) == 1


def test_contact_is_503_with_retry_after_when_even_the_spool_fails(app, monkeypatch):
    database_down(monkeypatch)
    intake.spool_dir(app).parent.parent.joinpath("spool").write_text("not a folder")
    response = post(app.test_client(), "contact", CONTACT)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert "send it again" in response.get_json()["error"]


def test_a_bad_statement_is_not_spooled(app, monkeypatch):
    """Only "database unreachable" spools; a programming error stays an error (and is seen)."""
    from sqlalchemy.exc import ProgrammingError

    def broken(*args, **kwargs):
        raise ProgrammingError("INSERT", {}, Exception("syntax error"))
    monkeypatch.setattr(service, "create_contact_ticket", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert post(app.test_client(), "contact", CONTACT).status_code == 500
    assert intake.spooled(app) == []


def test_a_connection_the_database_drops_as_a_request_ends_does_not_fail_it(app, monkeypatch):
    """A restart terminates the connection between the answer and the session's rollback."""
    from sqlalchemy.exc import OperationalError
    remove = db.session.remove
    dropped = []

    def remove_once_dropped():
        if not dropped:
            dropped.append(True)
            raise OperationalError("ROLLBACK", {}, Exception("terminating connection"))
        remove()
    monkeypatch.setattr(db.session, "remove", remove_once_dropped)
    response = post(app.test_client(), "contact", CONTACT)
    assert response.status_code == 201 and dropped

