"""POST /api/v1/events and /api/v1/feedback: stored with their context, validated strictly."""
from __future__ import annotations

import pytest

from kb_server.extensions import db
from kb_server.models import Event
from tests.tickets_helpers import UA, add_site, post


def stored(app) -> list[Event]:
    with app.app_context():
        return db.session.scalars(db.select(Event).order_by(Event.id)).all()


def test_search_event_is_stored_with_page_language_and_browser(app, client):
    response = post(client, "events", {
        "session_id": "s-1", "kind": "search", "query": "reset password", "language": "ru-RU",
        "result_count": 2, "result_ids": ["en/reset-password", "en/two-factor"],
        "page_url": "https://app.example.com/login"})
    assert response.status_code == 201
    assert response.get_json() == {"ok": True}
    [event] = stored(app)
    assert (event.kind, event.session_id, event.query, event.language) == \
        ("search", "s-1", "reset password", "ru")
    assert event.result_ids == ["en/reset-password", "en/two-factor"]
    assert event.page_url == "https://app.example.com/login"
    assert event.user_agent == UA
    assert event.site_key == "" and event.created_at is not None


def test_click_and_view_events_need_an_article(app, client):
    assert post(client, "events", {"session_id": "s", "kind": "click"}).status_code == 400
    body = {"session_id": "s", "kind": "view", "article_id": "en/two-factor", "page_url": "/a/x"}
    assert post(client, "events", body).status_code == 201
    assert stored(app)[0].article_id == "en/two-factor"


def test_event_for_a_known_site(app, client):
    add_site(app, "acme")
    body = {"session_id": "s", "kind": "search", "query": "invoice", "site": "acme"}
    assert post(client, "events", body).status_code == 201
    assert stored(app)[0].site_key == "acme"


@pytest.mark.parametrize("path,body", [
    ("events", {"session_id": "s", "kind": "search", "query": "x", "site": "nope"}),
    ("feedback", {"session_id": "s", "article_id": "en/a", "helpful": True, "site": "nope"}),
    ("contact", {"email": "a@b.co", "message": "help", "site": "nope"}),
])
def test_unknown_site_is_404_json(app, client, path, body):
    response = post(client, path, body)
    assert response.status_code == 404
    assert "unknown site" in response.get_json()["error"]
    assert stored(app) == []


def test_feedback_is_stored(app, client):
    response = post(client, "feedback", {
        "session_id": "s", "article_id": "en/reset-password", "helpful": False,
        "reason": "outdated", "comment": "The button is gone", "query": "reset password"})
    assert response.status_code == 201
    [event] = stored(app)
    assert event.kind == "feedback" and event.article_id == "en/reset-password"
    assert event.data == {"helpful": False, "reason": "outdated"}
    assert event.message == "The button is gone" and event.query == "reset password"


BAD_EVENTS = [
    {"session_id": "s", "kind": "purchase", "query": "x"},
    {"session_id": "s", "kind": "contact", "query": "x"},
    {"kind": "search", "query": "x"},
    {"session_id": "bad session id!", "kind": "search", "query": "x"},
    {"session_id": "s", "kind": "search"},
    {"session_id": "s", "kind": "search", "query": "x" * 501},
    {"session_id": "s", "kind": "search", "query": "x", "result_count": -1},
    {"session_id": "s", "kind": "search", "query": "x", "result_count": "3"},
    {"session_id": "s", "kind": "search", "query": "x", "result_count": True},
    {"session_id": "s", "kind": "search", "query": "x", "result_ids": ["en/a"] * 51},
    {"session_id": "s", "kind": "search", "query": "x", "result_ids": "en/a"},
    {"session_id": "s", "kind": "search", "query": "x", "result_ids": [1, 2]},
    {"session_id": "s", "kind": "search", "query": "x", "page_url": "https://a.b/" + "x" * 2000},
    {"session_id": "s", "kind": "search", "query": "x", "page_url": "javascript:alert(1)"},
    {"session_id": "s", "kind": "search", "query": "x", "language": "<script>"},
    {"session_id": "s", "kind": "search", "query": ["x"]},
    {"session_id": "s", "kind": "search", "query": "x", "site": 5},
]


@pytest.mark.parametrize("body", BAD_EVENTS)
def test_malformed_events_are_400_json(app, client, body):
    response = post(client, "events", body)
    assert response.status_code == 400
    assert response.get_json()["status"] == 400
    assert stored(app) == []


BAD_FEEDBACK = [
    {"session_id": "s", "article_id": "en/a"},
    {"session_id": "s", "article_id": "en/a", "helpful": "no"},
    {"session_id": "s", "helpful": False},
    {"session_id": "s", "article_id": "en/a", "helpful": False, "reason": "angry"},
    {"session_id": "s", "article_id": "en/a", "helpful": False, "comment": "x" * 2001},
]


@pytest.mark.parametrize("body", BAD_FEEDBACK)
def test_malformed_feedback_is_400_json(app, client, body):
    response = post(client, "feedback", body)
    assert response.status_code == 400
    assert "error" in response.get_json()


@pytest.mark.parametrize("path", ["events", "feedback", "contact"])
def test_non_json_bodies_are_400_json(client, path):
    for data, ctype in [("not json", "text/plain"), ("{broken", "application/json"),
                        ("[1, 2]", "application/json")]:
        response = client.post(f"/api/v1/{path}", data=data, content_type=ctype)
        assert response.status_code == 400
        assert response.get_json()["error"]


def test_oversized_body_is_413_json(client):
    response = post(client, "events", {"session_id": "s", "kind": "search", "query": "x",
                                       "padding": "x" * 70_000})
    assert response.status_code == 413
    assert response.get_json()["status"] == 413


def test_null_optional_fields_are_accepted(app, client):
    body = {"session_id": "s", "kind": "search", "query": "x", "language": None,
            "page_url": None, "site": None, "result_ids": None}
    assert post(client, "events", body).status_code == 201


def test_public_posts_need_no_csrf_token(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    body = {"session_id": "s", "kind": "search", "query": "x"}
    assert post(client, "events", body).status_code == 201
    assert post(client, "feedback", {"session_id": "s", "article_id": "en/reset-password",
                                     "helpful": True}).status_code == 201
    assert post(client, "contact", {"email": "a@b.co", "message": "hi"}).status_code == 201
