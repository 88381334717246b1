"""The user's ticket page by signed link: conversation, reply (lands in the same ticket), one-click
rating with comment; tampered, foreign and expired links refused."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
import time_machine

from kb_server.extensions import db
from kb_server.mail import conversation, tokens
from kb_server.models.tickets import Ticket
from kb_server.privacy import erase_person
from tests.tickets_helpers import STAFF, post

CONTACT = {"session_id": "s1", "email": "anna@example.com", "name": "Anna",
           "message": "Where do I find my invoices?", "language": "en"}


def new_ticket(client, **changes) -> str:
    response = post(client, "contact", {**CONTACT, **changes})
    assert response.status_code == 201
    return response.get_json()["ticket"]["reference"]


def load(reference: str) -> Ticket:
    return db.session.scalar(db.select(Ticket).filter_by(reference=reference))


def link(app, reference: str) -> str:
    with app.app_context():
        return "/t/" + tokens.link_token(reference, load(reference).email)


def update(app, reference: str, **fields) -> None:
    with app.app_context():
        ticket = load(reference)
        for name, value in fields.items():
            setattr(ticket, name, value)
        db.session.commit()


def test_page_shows_the_conversation(app, client):
    reference = new_ticket(client)
    with app.app_context():
        conversation.reply_to_user(load(reference), "Open Billing, then <b>Invoices</b>.<script>alert(1)</script>")
        db.session.commit()
    page = client.get(link(app, reference))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f"Your request {reference}" in html
    assert "Where do I find my invoices?" in html and "Open Billing, then <b>Invoices</b>." in html   # staff Markdown, sanitized
    assert "<script>alert" not in html
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_reply_on_the_page_lands_in_the_ticket(app, client):
    reference = new_ticket(client)
    update(app, reference, status="pending", pending_reason="user")
    url = link(app, reference)
    response = client.post(url, data={"message": "It is under Billing? <script>x()</script>"})
    assert response.status_code == 303 and response.headers["Location"].endswith("?sent=1")
    with app.app_context():
        ticket = load(reference)
        entry = conversation.entries(ticket)[-1]
        assert (entry["author"], entry["via"], entry["sender"]) == ("user", "link", "anna@example.com")
        assert ticket.status == "open"
    html = client.get(url + "?sent=1").get_data(as_text=True)
    assert "your reply was added" in html and "&lt;script&gt;x()&lt;/script&gt;" in html
    assert "<script>x()" not in html


@pytest.mark.parametrize("message,error", [("   ", "Please write your reply."),
                                           ("x" * 5001, "at most 5000 characters")])
def test_bad_replies_are_a_400_page(app, client, message, error):
    reference = new_ticket(client)
    response = client.post(link(app, reference), data={"message": message})
    assert response.status_code == 400 and error in response.get_data(as_text=True)
    with app.app_context():
        assert conversation.entries(load(reference)) == []


def test_one_click_rating_then_comment(app, client):
    reference = new_ticket(client)
    update(app, reference, status="resolved")
    url = link(app, reference)
    assert "How did we do?" in client.get(url).get_data(as_text=True)
    assert client.head(url + "/rate/bad").status_code == 200       # a link preview records nothing
    page = client.get(url + "/rate/good")                            # nor a scanner fetching it
    assert page.status_code == 200 and 'value="good" checked' in page.get_data(as_text=True)
    with app.app_context():
        assert load(reference).csat_rating == ""
    assert client.post(url + "/rate", data={"rating": "good"}).status_code == 200   # the page's script
    with app.app_context():
        assert load(reference).csat_rating == "good"
    saved = client.post(url + "/rate", data={"rating": "bad", "comment": "Took too long."})
    assert saved.status_code == 200
    detail = client.get(f"/api/v1/tickets/{reference}", headers=STAFF).get_json()["ticket"]
    assert detail["csat"]["rating"] == "bad" and detail["csat"]["comment"] == "Took too long."
    assert client.post(url + "/rate", data={"rating": "meh"}).status_code == 400
    assert client.get(url + "/rate/meh").status_code == 404


def test_tampered_and_foreign_links_are_refused(app, client):
    reference = new_ticket(client)
    url = link(app, reference)
    token = url.rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (f"/t/{tampered}", "/t/not-a-token", f"/t/{tampered}/rate/good"):
        response = client.get(bad)
        assert response.status_code == 404 and "This link does not work" in response.get_data(as_text=True)
    assert client.post(f"/t/{tampered}", data={"message": "hi"}).status_code == 404
    app.config["SECRET_KEY"] = "another instance's key"
    with app.app_context():
        foreign = tokens.link_token(reference, "anna@example.com")
    app.config["SECRET_KEY"] = "test"
    assert client.get(f"/t/{foreign}").status_code == 404


def test_erased_ticket_has_no_valid_link(app, client):
    reference = new_ticket(client)
    url = link(app, reference)
    with app.app_context():
        erase_person("anna@example.com")
    assert client.get(url).status_code == 404


def test_expired_link_is_410(app, client):
    reference = new_ticket(client)
    url = link(app, reference)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=app.config["REQUESTER_LINK_DAYS"] + 1)
    with time_machine.travel(later):
        response = client.get(url)
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)


@pytest.mark.parametrize("language,title,button", [
    ("ru", "Ваше обращение", "Отправить ответ"),
    ("uk", "Ваше звернення", "Надіслати відповідь"),
])
def test_page_speaks_the_tickets_language(app, client, language, title, button):
    reference = new_ticket(client, language=language, message="Где счета?")
    html = client.get(link(app, reference)).get_data(as_text=True)
    assert f'<html lang="{language}">' in html and title in html and button in html


def test_reply_form_needs_the_csrf_token(app, client):
    reference = new_ticket(client)
    url = link(app, reference)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(url, data={"message": "hello"}).status_code == 400
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(url, data={"message": "hello", "csrf_token": token}).status_code == 303


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(max_size=60), message=st.text(max_size=80), rating=st.text(max_size=8))
def test_hostile_links_and_forms_never_fail(app, client, token, message, rating):
    from urllib.parse import quote
    path = "/t/" + quote(token.encode("utf-8", "surrogatepass"), safe="")
    for response in (client.get(path), client.post(path, data={"message": message}),
                     client.get(f"{path}/rate/good"),
                     client.post(f"{path}/rate", data={"rating": rating, "comment": message})):
        assert response.status_code < 500


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=st.text(st.characters(codec=None, exclude_categories=()), max_size=80),
       rating=st.sampled_from(["good", "bad", "", "x"]))
def test_any_reply_or_comment_on_a_real_link_is_stored_or_refused(app, client, message, rating):
    with app.app_context():
        if load("LZ-000001") is None:
            new_ticket(client)
    url = link(app, "LZ-000001")
    assert client.post(url, data={"message": message}).status_code in (303, 400)
    assert client.post(url + "/rate", data={"rating": rating, "comment": message}).status_code in (200, 400)


@pytest.mark.parametrize("reason, label", [("user", "Waiting for your answer"), ("third_party", "In progress")])
def test_pending_status_is_told_by_whom_it_waits_on(app, client, reason, label):
    reference = new_ticket(client)
    update(app, reference, status="pending", pending_reason=reason)
    html = client.get(link(app, reference)).get_data(as_text=True)
    assert f'<strong class="ticket-status">{label}</strong>' in html
