"""In real headless Chromium: a file-based article's links and images work on its page, and a
"not helpful" counts against a search only on an article that search offered."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from browser_helpers import browser, live_server, page  # noqa: F401  (fixtures)
from kb_server.extensions import db
from kb_server.models import Ticket
from test_docs_as_code import png

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser


def _feedback_not_helpful(page) -> dict:
    page.get_by_role("button", name="No").click()
    page.get_by_label("It is hard to understand").check()
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/api/v1/feedback")) as sent:
        page.get_by_role("button", name="Send").click()
    expect(page.locator("#feedback .status")).to_have_text("Thank you for your feedback!")
    return sent.value.post_data_json


def test_a_search_typed_or_used_for_another_article_is_not_the_query_of_a_not_helpful(app, page, live_server):
    page.goto(live_server + "/")
    box = page.get_by_role("combobox", name="Search the help center")
    box.press_sequentially("two fac")                       # typed, suggestions shown, not submitted
    expect(page.get_by_role("listbox", name="Suggested articles")).to_be_visible()
    page.goto(live_server + "/a/en/reset-password")         # opened directly
    assert _feedback_not_helpful(page)["query"] == ""

    page.goto(live_server + "/")
    box.press_sequentially("two fac")
    page.get_by_role("option").first.click()                 # used: the suggestion opens its article
    expect(page).to_have_url(re.compile(r"/a/en/two-factor"))
    assert _feedback_not_helpful(page)["query"] == "two fac"
    page.goto(live_server + "/a/en/reset-password")         # not an article that search offered
    assert _feedback_not_helpful(page)["query"] == ""
    with app.app_context():
        tickets = db.session.scalars(db.select(Ticket)).all()
        assert [t for t in tickets if "two fac" in t.subject and "reset-password" in str(t.context)] == []


def test_a_file_articles_relative_link_and_image_work_on_its_page(app, page, live_server):
    kb = Path(app.config["ARTICLES_DIR"])
    (kb / "en" / "img").mkdir()
    (kb / "en" / "img" / "shot.png").write_bytes(png(3, 2))
    (kb / "en" / "screens.md").write_text(
        "---\ntitle: Screens\ncategory: account\n---\n## Where\n\n"
        "See [two-factor](two-factor.md) first.\n\n![The screen](img/shot.png)\n", encoding="utf-8")
    with app.app_context():
        from kb_server.authoring import files, publishing
        files.sync_from_files(kb)
        publishing.refresh_index()
    page.goto(live_server + "/a/en/screens")
    image = page.get_by_role("img", name="The screen")
    expect(image).to_have_attribute("src", "/files/en/img/shot.png")
    page.wait_for_function("document.querySelector('article img').complete")
    assert image.evaluate("img => img.naturalWidth") == 3
    page.get_by_role("link", name="two-factor", exact=True).click()
    expect(page).to_have_url(re.compile(r"/a/en/two-factor$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    shutil.rmtree(kb / "en" / "img")
