"""The analytics dashboard in real headless Chromium: an analyst signs in, sees the heatmap
and the knowledge gap (without "write article": analysts may not write), and sorts a table.
Screenshots of the dashboard in English and Russian go to ``LZ_SHOTS`` when it is set."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from staff_helpers import PASSWORD, add_staff
from analytics_helpers import PAST, TODAY, day_log, store
from test_console_browser import LAPTOP, browser, live_server  # noqa: F401  (shared fixtures)
from tickets_helpers import search

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("LZ_SHOTS")


def shoot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_analyst_sees_the_heatmap_and_a_content_gap(browser, live_server, app):  # noqa: F811
    with app.app_context():
        add_staff("ana@example.com", "analyst")
    store(app, *day_log(PAST), *day_log(TODAY))
    client = app.test_client()
    for session in ("g1", "g2", "g3"):
        search(client, session, "export calendar to outlook", language="en")

    page = browser.new_context(locale="en-US", viewport=LAPTOP).new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server + "/console/analytics")                  # -> sign in, then back
    page.get_by_label("E-mail").fill("ana@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
    page.get_by_label("From").fill(PAST.isoformat())
    page.get_by_label("Time zone").fill("Asia/Tokyo")
    page.get_by_role("button", name="Apply").click()

    heatmap = page.locator("#heatmap svg[role=img]")
    expect(heatmap).to_be_visible()
    expect(page.locator("#heatmap")).to_contain_text("Asia/Tokyo")
    assert heatmap.locator("rect").count() == 7 * 24
    tokyo_6pm = heatmap.locator("rect").nth(PAST.weekday() * 24 + 18)   # 09:00 UTC
    assert tokyo_6pm.get_attribute("data-count") == "2"
    expect(page.locator("#heatmap h2")).to_contain_text("9")      # 3 + 3 + the 3 gap searches
    expect(page.locator("[data-kpi=searches] .kpi-value")).to_have_text("9")  # 3+3 + 3 gaps
    shoot(page, "dashboard-en")
    page.goto(page.url + "&lang=ru")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Обзор")
    shoot(page, "dashboard-ru")
    page.goto(page.url.replace("lang=ru", "lang=en"))

    page.get_by_role("link", name="Content gaps").click()
    gap = page.locator("tr[data-gap]").first
    expect(gap).to_contain_text("export calendar to outlook")
    expect(gap).to_contain_text("3")
    expect(gap.get_by_role("link", name="Write article")).to_have_count(0)   # analysts may not

    page.get_by_role("link", name="Searches").click()
    table = page.locator("table[data-sortable]").first
    first = table.locator("tbody tr td.q").first
    table.get_by_role("columnheader", name="Query").click()         # descending first
    expect(first).to_have_text("reset password")
    table.get_by_role("columnheader", name="Query").click()
    expect(first).to_have_text("=hyperlink(\"x\")")
    page.context.close()


def test_the_search_tables_fit_their_cards_in_ukrainian_on_a_laptop(browser, live_server, app):  # noqa: F811
    with app.app_context():
        add_staff("ana@example.com", "analyst")
    store(app, *day_log(PAST))
    client = app.test_client()
    for session in ("u1", "u2"):
        search(client, session, "експорт календаря в outlook разом із синхронізацією подій", language="uk")
    page = browser.new_context(locale="uk-UA", viewport=LAPTOP).new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server + "/console/analytics/searches?lang=uk")
    page.get_by_label("E-mail").fill("ana@example.com")
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Увійти").click()
    page.goto(live_server + f"/console/analytics/searches?start={PAST.isoformat()}")
    tables = page.locator("table[data-sortable]")
    expect(tables.first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    for index in range(tables.count()):
        table = tables.nth(index)
        card = table.locator("xpath=ancestor::section[1]")
        table_box, card_box = table.bounding_box(), card.bounding_box()
        assert table_box["x"] + table_box["width"] <= card_box["x"] + card_box["width"]
        assert table.locator("td.q").first.bounding_box()["width"] >= 120    # a query reads as words
    shoot(page, "searches-uk")
    page.context.close()
