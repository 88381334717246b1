"""The webhooks page in real headless Chromium: an admin adds an endpoint (the secret shown
once), a new ticket is delivered to a local receiver, the delivery log shows it."""
from __future__ import annotations

import json

import pytest

from staff_helpers import STAFF_ADMIN
from test_console_browser import browser, live_server, log_in  # noqa: F401  (fixtures)
from test_webhooks import Receiver, verify
from tickets_helpers import post

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser


def test_admin_adds_an_endpoint_and_sees_its_deliveries(app, browser, live_server):  # noqa: F811
    receiver = Receiver()
    try:
        page = log_in(browser, live_server, STAFF_ADMIN)
        page.get_by_role("link", name="Webhooks").click()
        expect(page.get_by_text("No endpoints yet.")).to_be_visible()
        form = page.locator("form", has=page.get_by_role("button", name="Add endpoint"))
        form.get_by_label("Endpoint URL").fill(receiver.url)
        form.get_by_label("Description").fill("Our help desk")
        form.get_by_label("ticket.updated").uncheck()
        form.get_by_role("button", name="Add endpoint").click()
        secret = page.locator("#new-secret code").inner_text()
        assert secret.startswith("whsec_")
        post(app.test_client(), "contact", {"session_id": "wb", "email": "ola@example.com",
                                            "message": "Export is broken", "language": "en"})
        [request] = receiver.requests
        assert verify(secret, request["headers"], request["body"])
        assert json.loads(request["body"])["type"] == "ticket.created"
        page.goto(live_server + "/console/webhooks")
        row = page.locator("tr[data-state='delivered']")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("ticket.created")
        expect(row).to_contain_text("200")
        expect(row).to_contain_text("Our help desk")
        expect(page.locator("#new-secret")).to_have_count(0)          # the secret was shown once
        endpoint = page.locator("section[data-webhook]")
        expect(endpoint.get_by_label("ticket.updated")).not_to_be_checked()
        expect(endpoint.get_by_label("Description")).to_have_value("Our help desk")
    finally:
        receiver.stop()
