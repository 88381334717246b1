"""A content gap closed in real headless Chromium: an analyst sees failed searches as a gap on
the analytics gaps page (no "Write article" there: an analyst may not write); an editor writes
the article from the gap ticket and publishes it; the analyst sees the gap answered, by that
article. Screenshots of the gaps page in English and Russian go to ``LZ_SHOTS`` when it is set."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from authoring_helpers import cheap_passwords  # noqa: F401  (a fixture)
from staff_helpers import PASSWORD, add_staff
from test_console_browser import LAPTOP, browser, live_server  # noqa: F401  (shared fixtures)
from tickets_helpers import search

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser

QUERIES = ("sync calendar zzqx outlook", "outlook calendar zzqx sync", "calendar zzqx outlook")
SHOTS = os.environ.get("LZ_SHOTS")


def sign_in(browser, base: str, email: str, path: str, locale: str = "en-US"):  # noqa: F811
    page = browser.new_context(locale=locale, viewport=LAPTOP).new_page()
    page.set_default_timeout(15_000)
    page.goto(base + path)                                 # -> sign in, then back
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(path.split("?")[0])))
    return page


def shoot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=False)


def test_an_analysts_gap_is_written_published_and_shown_answered(browser, live_server, app):  # noqa: F811
    with app.app_context():
        add_staff("ana@example.com", "analyst")
        add_staff("ed@example.com", "editor")
    client = app.test_client()
    for number, query in enumerate(QUERIES):               # three users, no results
        search(client, f"gap-{number}", query, language="en")

    analyst = sign_in(browser, live_server, "ana@example.com", "/console/analytics/gaps")
    gap = analyst.locator("tr[data-gap]", has_text=QUERIES[0])
    expect(gap).to_contain_text("3")
    expect(gap.get_by_role("link", name="Write article")).to_have_count(0)
    reference = gap.get_attribute("data-gap")
    shoot(analyst, "gaps-open-en")

    editor = sign_in(browser, live_server, "ed@example.com", f"/console/t/{reference}")
    editor.get_by_role("link", name=re.compile("Write article")).click()
    expect(editor.get_by_label(re.compile("^Title"))).to_have_value(re.compile("zzqx", re.I))
    editor.get_by_label(re.compile("^Title")).fill("Sync your Outlook calendar zzqx")
    editor.get_by_label(re.compile("^Slug")).fill("sync-outlook-calendar")
    editor.get_by_label("Category").select_option("account")
    editor.get_by_label("Markdown").fill(
        "Orbita syncs with the Outlook calendar zzqx.\n\n## Connect\n\nOpen **Settings → "
        "Calendar** and choose *Outlook*.\n")
    expect(editor.locator("[data-preview] h2")).to_have_text("Connect")
    editor.get_by_role("button", name="Validate & publish").click()
    expect(editor.get_by_role("status").first).to_contain_text("Published")

    analyst.reload()
    gap = analyst.locator(f"tr[data-gap='{reference}']")
    expect(gap.locator(".gap-answered")).to_have_text("Answered")
    expect(gap).to_contain_text("Sync your Outlook calendar zzqx")
    answered = analyst.request.get(live_server + "/api/v1/analytics/gaps").json()["gaps"]
    assert [(g["reference"], g["answered"], g["answered_by"]["article_id"])
            for g in answered] == [(reference, True, "en/sync-outlook-calendar")]
    shoot(analyst, "gaps-answered-en")
    analyst.goto(live_server + "/console/analytics/gaps?lang=ru")
    expect(analyst.locator(f"tr[data-gap='{reference}'] .gap-answered")).to_have_text("Есть ответ")
    shoot(analyst, "gaps-answered-ru")
    for page in (analyst, editor):
        page.context.close()
