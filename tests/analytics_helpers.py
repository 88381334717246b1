"""A hand-built event log for the analytics tests, and an app holding it shared by a test
module's read-only tests (``shared``: copies of the template's index and database, as ``app``)."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest

from conftest import app_config
from kb_server import create_app
from kb_server.extensions import db
from kb_server.models import Event, Ticket, utcnow
from staff_helpers import add_staff
from tickets_helpers import search

TODAY = utcnow().date()
PAST = TODAY - dt.timedelta(days=3)


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second))


def store(app, *events: dict) -> None:
    with app.app_context():
        for fields in events:
            db.session.add(Event(**{"language": "en", "site_key": "", **fields}))
        db.session.commit()


def day_log(day: dt.date, site: str = "") -> list[dict]:
    """One day: 3 intents (one typed in 3 keystroke searches), one clicked at position 2, one
    with no results; a second session that views an article, votes "not helpful" and contacts."""
    s = {"site_key": site}
    return [
        {"kind": "search", "session_id": "a", "query": "res", "result_count": 2,
         "result_ids": ["en/x", "en/y"], "created_at": at(day, 9, 0, 0), **s},
        {"kind": "search", "session_id": "a", "query": "reset", "result_count": 2,
         "result_ids": ["en/x", "en/y"], "created_at": at(day, 9, 0, 2), **s},
        {"kind": "search", "session_id": "a", "query": "reset password", "result_count": 2,
         "result_ids": ["en/x", "en/y"], "created_at": at(day, 9, 0, 4), **s},
        {"kind": "click", "session_id": "a", "article_id": "en/y", "created_at": at(day, 9, 0, 9), **s},
        {"kind": "search", "session_id": "a", "query": "=HYPERLINK(\"x\")", "result_count": 0,
         "created_at": at(day, 9, 5), **s},
        {"kind": "search", "session_id": "b", "query": "invoice", "result_count": 1,
         "result_ids": ["en/inv"], "created_at": at(day, 22, 30), **s},
        {"kind": "view", "session_id": "b", "article_id": "en/inv", "created_at": at(day, 22, 31), **s},
        {"kind": "feedback", "session_id": "b", "article_id": "en/inv",
         "data": {"helpful": False, "reason": "outdated"}, "created_at": at(day, 22, 32), **s},
        {"kind": "contact", "session_id": "b", "created_at": at(day, 22, 33), **s},
    ]


GAP_QUERY = "vpn error 809"


@pytest.fixture(scope="module")
def shared(tmp_path_factory, template):
    """Two days of ``day_log`` (PAST on the help center, TODAY on the demo site), three contact
    tickets of two people today, a gap ticket of two users; accounts: analyst, agent, editor.
    Yields (app, analyst token, agent token)."""
    root = tmp_path_factory.mktemp("analytics")
    shutil.copytree(template / "index", root / "index")
    shutil.copy2(template / "test.db", root / "test.db")
    shutil.copytree(template / "articles", root / "articles")
    app = create_app(app_config(root))
    store(app, *day_log(PAST), *day_log(TODAY, site="demo"))
    with app.app_context():
        analyst = add_staff("ana@example.com", "analyst")
        agent = add_staff("agent@example.com", "agent", line=1)
        add_staff("editor@example.com", "editor")
        for email in ("p@example.com", "P@example.com", "q@example.com"):
            ticket = Ticket(kind="contact", email=email, created_at=at(TODAY, 8))
            db.session.add(ticket)
            db.session.flush()
            ticket.assign_reference()
        db.session.commit()
    client = app.test_client()
    for session in ("g1", "g2"):
        search(client, session, GAP_QUERY, language="en")
    yield app, analyst, agent
