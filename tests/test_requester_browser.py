"""The user's ticket page in real headless Chromium: rate the answer, comment, then reply; CSRF on,
on a phone-sized screen."""
from __future__ import annotations

import re

import pytest

from kb_server.extensions import db
from kb_server.mail import conversation, tokens
from kb_server.models.tickets import Ticket
from tests.test_pages_browser import PHONE, browser, live_server, no_horizontal_scroll  # noqa: F401 (fixtures)
from tests.tickets_helpers import post

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser


@pytest.fixture
def resolved_ticket(app, client) -> str:
    """A resolved ticket with an answer from staff; its page's path."""
    app.config["WTF_CSRF_ENABLED"] = True
    response = post(client, "contact", {"session_id": "s1", "email": "anna@example.com",
                                        "name": "Anna", "message": "Where are my invoices?",
                                        "language": "en"})
    reference = response.get_json()["ticket"]["reference"]
    with app.app_context():
        ticket = db.session.scalar(db.select(Ticket).filter_by(reference=reference))
        conversation.reply_to_user(ticket, "Open **Billing**, then *Invoices*.", rating=True)
        ticket.status = "resolved"
        db.session.commit()
        return "/t/" + tokens.link_token(reference, ticket.email)


def test_rate_comment_and_reply_on_a_phone(browser, live_server, resolved_ticket, app):  # noqa: F811
    context = browser.new_context(locale="en-US", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server + resolved_ticket)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Your request LZ-\d{6}"))
    expect(page.locator(".conversation-entry--agent strong", has_text="Billing")).to_be_visible()
    expect(page.locator(".ticket-status")).to_have_text("Resolved")
    assert no_horizontal_scroll(page)

    page.get_by_role("link", name="Good, I got what I needed").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your rating.")
    page.get_by_label("Anything to add? (optional)").fill("Quick and clear.")
    page.get_by_role("button", name="Send comment").click()
    expect(page.get_by_text("Your rating: good")).to_be_visible()
    page.get_by_role("link", name="Back to your request").click()

    page.get_by_label("Your reply").fill("One more: where is the VAT number?")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_have_text("Thank you, your reply was added to the request.")
    expect(page.locator(".conversation-entry--user").last).to_contain_text("where is the VAT number?")
    expect(page.locator(".ticket-status")).to_have_text("In progress")
    assert no_horizontal_scroll(page)
    context.close()
    with app.app_context():
        ticket = db.session.scalar(db.select(Ticket).filter_by(email="anna@example.com"))
        assert (ticket.csat_rating, ticket.csat_comment, ticket.status) == ("good", "Quick and clear.", "open")
