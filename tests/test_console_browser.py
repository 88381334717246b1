"""The staff console in real headless Chromium: line 1 works the oldest breached ticket (its
session and suggested articles, a reply, escalation with the missing facts); line 2 sees it and
resolves it with a suggested article, which is then linked; or writes an article from the ticket,
resolves it, and the user rates the answer through the link in the e-mail."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from pathlib import Path

import pytest

from kb_server.extensions import db
from kb_server.models import Ticket, utcnow
from kb_server.tickets import sla, sla_watch
from mail_helpers import relay  # noqa: F401  (a fixture)
from staff_helpers import PASSWORD, add_staff
from tickets_helpers import post, search
from browser_helpers import browser, live_server  # noqa: F401  (fixtures)

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}


def contact(client, session: str, message: str) -> str:
    response = post(client, "contact", {"session_id": session, "email": "anna@example.com",
                                        "name": "Anna", "message": message, "language": "en"})
    return response.get_json()["ticket"]["reference"]


@pytest.fixture
def tickets(app):
    """Two breached tickets (the older breach is an outage, which needs facts) and a fresh one."""
    client = app.test_client()
    search(client, "b1", "reset password", ["en/reset-password"], language="en",
           page_url="https://app.example/login")
    oldest = contact(client, "b1", "Nothing works at all: the reset password page is down")
    newer = contact(client, "b2", "How do I download an invoice?")
    contact(client, "b3", "How do I change my e-mail?")
    now = utcnow()
    with app.app_context():
        add_staff("line1@example.com", "agent", line=1)
        add_staff("line2@example.com", "agent", line=2)
        for reference, overdue in ((oldest, 180), (newer, 20)):
            ticket = db.session.scalar(db.select(Ticket).filter_by(reference=reference))
            target = sla.policy().duration(ticket.priority, ticket.request_class, "first_response")
            ticket.created_at = now - target - dt.timedelta(minutes=overdue)
            sla_watch.store_state(ticket)
        db.session.commit()
    return oldest


def log_in(browser, base: str, email: str):
    page = browser.new_context(locale="en-US", viewport=LAPTOP).new_page()
    page.set_default_timeout(10_000)
    page.goto(base + "/console/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name=re.compile("Breached & due soon"))).to_be_visible()
    return page


def test_line1_replies_and_escalates_the_oldest_breached_ticket_line2_sees_it(browser, live_server, tickets,
                                                                            relay):
    page = log_in(browser, live_server, "line1@example.com")
    page.get_by_role("link", name=re.compile("Breached & due soon")).click()
    first_row = page.locator("table.tickets tbody tr").first
    expect(first_row).to_have_attribute("data-reference", tickets)
    expect(first_row.locator(".sla-breached")).to_be_visible()
    first_row.get_by_role("link", name=tickets).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("reset password page is down")
    session = page.locator("section", has=page.locator("#h-session"))
    expect(session).to_contain_text("“reset password”")
    expect(session).to_contain_text("https://app.example/login")
    suggested = page.locator("section", has=page.locator("#h-suggested"))
    expect(suggested.get_by_role("link", name="Reset your password")).to_be_visible()

    page.get_by_role("textbox", name="Reply to the user").fill("We are looking into it right now.")
    page.get_by_role("button", name="Send reply").click()
    reply = page.locator("[data-message-kind=reply]")
    expect(reply).to_contain_text("We are looking into it right now.")
    expect(reply).to_contain_text("sent")
    [sent] = relay.messages                                   # at the local SMTP server
    assert sent["To"] == "Anna <anna@example.com>" and tickets in sent["Subject"]
    assert "We are looking into it right now." in sent.get_body(("plain",)).get_content()

    escalation = page.locator("#escalate-form")
    escalation.get_by_label("Reason").fill("Page down for everyone, needs line 2")
    escalation.get_by_role("button", name="Escalate").click()
    expect(page.get_by_role("alert")).to_contain_text("collect these facts before escalating")
    escalation = page.locator("#escalate-form")
    escalation.get_by_label("Affected service").fill("password reset page")
    escalation.get_by_label("Since when").fill("today 09:00 UTC")
    escalation.get_by_label("Error text").fill("HTTP 502 Bad Gateway")
    escalation.get_by_label("To line").select_option("2")
    escalation.get_by_label("Reason").fill("Page down for everyone, needs line 2")
    escalation.get_by_role("button", name="Escalate").click()
    expect(page.get_by_role("status")).to_contain_text("escalated to line 2")
    expect(page.get_by_text("You can read this ticket; line 2 and above work on it.")).to_be_visible()
    page.context.close()

    page = log_in(browser, live_server, "line2@example.com")
    row = page.locator(f"tr[data-reference='{tickets}']")           # "My line, unassigned"
    expect(row).to_be_visible()
    row.get_by_role("link", name=tickets).click()
    banner = page.locator("[data-escalation]")
    expect(banner).to_contain_text("Escalated from line 1 to line 2")
    expect(banner).to_contain_text("Page down for everyone, needs line 2")
    expect(page.get_by_label("Error text")).to_have_value("HTTP 502 Bad Gateway")
    expect(page.locator("[data-message-kind=reply]")).to_contain_text("We are looking into it")

    kcs = page.locator("[data-kcs]")                    # line 2 resolves it with an article
    kcs.get_by_role("searchbox").fill("two-factor")
    kcs.get_by_role("button", name="Find").click()
    expect(page.locator("[data-found]")).to_contain_text("Set up two-factor authentication")
    suggested = page.locator("[data-kcs] > ol li[data-article='en/reset-password']")
    suggested.get_by_role("button", name="Resolve with this").click()
    expect(page.get_by_role("status")).to_contain_text("resolved with en/reset-password")
    expect(page.locator(".ticket-head .badge")).to_contain_text("Resolved")
    linked = page.locator("[data-links] li[data-link='en/reset-password']")
    expect(linked).to_contain_text("Reset your password")
    expect(linked).to_contain_text("resolved with")
    expect(page.locator("[data-message-kind=reply]").last).to_contain_text("/a/en/reset-password")
    page.context.close()


def rating_path(app, reference: str, rating: str) -> str:
    """The one-click rating link in the e-mails written to ``reference``'s user."""
    for path in Path(app.config["MAIL_OUTBOX_DIR"]).glob(f"*{reference.lower()}*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found = re.search(rf"/t/[^\s/]+/rate/{rating}", message.get_body(("plain",)).get_content())
        if found:
            return found.group(0)
    raise AssertionError(f"no e-mail to the user of {reference} carries a rating link")


def test_line2_writes_an_article_from_the_ticket_resolves_it_and_the_user_rates(
        browser, live_server, tickets, app):
    page = log_in(browser, live_server, "line2@example.com")
    page.goto(f"{live_server}/console/t/{tickets}")
    page.get_by_role("link", name="Write article").click()
    expect(page.get_by_label(re.compile("^Title"))).to_have_value(re.compile("reset password page is down"))
    expect(page.get_by_label("Markdown")).to_have_value(re.compile("Nothing works at all"))
    page.get_by_label(re.compile("^Slug")).fill("reset-page-down")
    page.get_by_label("Category").select_option("account")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").first).to_contain_text("Draft saved")

    page.goto(f"{live_server}/console/t/{tickets}")
    linked = page.locator("[data-links] li[data-link='en/reset-page-down']")
    expect(linked).to_have_attribute("data-relation", "created_from")
    page.get_by_role("textbox", name="Reply to the user").fill(
        "Fixed, and we wrote down how to get past it next time.")
    page.get_by_label("Then set status").select_option("resolved")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".ticket-head .badge")).to_contain_text("Resolved")
    page.context.close()

    user = browser.new_context(locale="en-US").new_page()
    user.goto(live_server + rating_path(app, tickets, "good"))
    expect(user.get_by_role("heading", level=1)).to_have_text("Thank you for your rating.")
    user.context.close()
    with app.app_context():
        ticket = db.session.scalar(db.select(Ticket).filter_by(reference=tickets))
        assert ticket.csat_rating == "good"


def test_the_users_page_columns_line_up_in_ukrainian_and_no_password_seems_set(browser, live_server, app):
    with app.app_context():
        add_staff("line1@example.com", "agent", line=1)
        add_staff("boss@example.com", "admin")
    page = log_in(browser, live_server, "boss@example.com")
    page.goto(live_server + "/console/users?lang=uk")
    headers = page.locator("table.users thead th")
    cells = page.locator("table.users tbody tr").first.locator("td")
    assert headers.count() == cells.count()
    for index in range(headers.count()):        # each column's header starts where its cells do
        assert abs(headers.nth(index).bounding_box()["x"] - cells.nth(index).bounding_box()["x"]) < 1
    passwords = page.locator("table.users input[type=password]")
    assert passwords.count() >= 2
    assert not any(passwords.nth(i).get_attribute("placeholder") for i in range(passwords.count()))
    row = page.locator("tr[data-user='line1@example.com']")
    row.locator("select[name=line]").select_option("2")
    row.get_by_role("button", name="Зберегти").click()
    expect(page.locator(".flash-success")).to_contain_text("line1@example.com")
    expect(page.locator("tr[data-user='line1@example.com'] select[name=line]")).to_have_value("2")
