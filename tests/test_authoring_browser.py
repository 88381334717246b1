"""Authoring in real headless Chromium: an editor writes an article with a table and a code
block, sees the live preview, autosaves and submits it for review; another editor validates
and publishes it and search finds it; an edit shows in the diff; restoring the first revision
works; a file edited on disk shows up as a revision. Screenshots of the editor in English and
Russian go to the folder ``LZ_SHOTS`` names, when it is set."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from authoring_helpers import article_path, cheap_passwords  # noqa: F401
from kb_server.extensions import db
from kb_server.models import KbArticle
from staff_helpers import PASSWORD, add_staff
from browser_helpers import browser, serving  # noqa: F401  (a fixture)
from test_widget_browser import in_widget, open_widget

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
SHOTS = os.environ.get("LZ_SHOTS")
BODY = """Orbita can export everything in your workspace.

## Formats

| format | contents | size limit |
|---|---|---|
| CSV | one file per table | 2 GB |
| JSON | the whole workspace | 5 GB |

## From the command line

```bash
orbita export --all --format json
```
"""


@pytest.fixture
def live_server(app):
    with app.app_context():
        add_staff("writer@example.com", "editor")
        add_staff("reviewer@example.com", "editor")
    with serving(app) as base:
        yield base


def log_in(browser, base: str, email: str, locale: str = "en-US"):
    page = browser.new_context(locale=locale, viewport=DESKTOP).new_page()
    page.set_default_timeout(15_000)
    page.goto(base + "/console/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/console/$"))
    return page


def shoot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"editor-{name}.png"), full_page=False)


def test_write_review_publish_search_diff_restore_and_a_file_edit(browser, live_server, app):
    writer = log_in(browser, live_server, "writer@example.com")
    writer.get_by_role("link", name="Articles", exact=True).click()
    writer.get_by_role("link", name=re.compile("New article")).click()
    writer.get_by_label(re.compile("^Title")).fill("Export your workspace")
    expect(writer.get_by_label(re.compile("^Slug"))).to_have_value("export-your-workspace")
    writer.get_by_label("Category").select_option("account")
    writer.get_by_label(re.compile("^Tags")).fill("export, backup")
    writer.get_by_label("Summary").fill("Download a copy of everything in your workspace.")
    writer.get_by_label(re.compile("^Product pages")).fill("/settings/export*")
    writer.get_by_label("Markdown").fill(BODY)
    preview = writer.locator("[data-preview]")
    expect(preview.locator("table td").first).to_have_text("CSV")
    expect(preview.locator("pre code")).to_contain_text("orbita export --all")
    expect(writer.locator("[data-autosave-status]")).to_contain_text("Autosaved", timeout=20_000)
    expect(writer).to_have_url(re.compile(r"/console/articles/\d+$"))
    shoot(writer, "editor-en")
    writer.get_by_role("button", name="Submit for review").click()
    expect(writer.get_by_role("status").first).to_contain_text("Submitted for review")
    expect(writer.locator(".editor-head .badge").first).to_have_text("Not validated")
    article_url = writer.url

    reviewer = log_in(browser, live_server, "reviewer@example.com")
    reviewer.goto(live_server + "/console/articles")
    expect(reviewer.locator("tr[data-article='en/export-your-workspace']")).to_contain_text("Not validated")
    shoot(reviewer, "list-en")
    reviewer.goto(live_server + "/console/articles?state=not_validated")
    reviewer.get_by_role("link", name="Export your workspace").click()
    reviewer.get_by_role("button", name="Validate & publish").click()
    expect(reviewer.get_by_role("status").first).to_contain_text("Published")
    hits = reviewer.request.get(live_server + "/api/v1/search?q=export+workspace+json").json()["hits"]
    assert hits[0]["id"] == "en/export-your-workspace"
    user = reviewer.context.browser.new_context(locale="en-US").new_page()   # a product's user
    open_widget(user, live_server)
    in_widget(user, ".lz-input").fill("export workspace json")
    expect(in_widget(user, "ul[aria-label='Search results'] .lz-hit-title").first).to_have_text(
        "Export your workspace")
    user.context.close()
    assert "| CSV | one file per table | 2 GB |" in article_path(app, "en", "export-your-workspace").read_text()

    # an edit, then the diff between the published revision and the edit
    reviewer.get_by_label("Markdown").fill(BODY.replace("2 GB", "4 GB"))
    reviewer.get_by_label("Change note").fill("CSV limit raised")
    reviewer.get_by_role("button", name="Save draft").click()
    expect(reviewer.get_by_role("status").first).to_contain_text("Draft saved")
    reviewer.get_by_role("link", name="Revisions").click()
    reviewer.get_by_role("button", name="Compare").click()
    diff = reviewer.locator("[data-diff]")
    expect(diff.locator("tr.diff-change del", has_text="2")).to_be_visible()   # word by word
    expect(diff.locator("tr.diff-change ins", has_text="4")).to_be_visible()
    shoot(reviewer, "diff-en")

    # restore the first revision: a new revision with its text
    reviewer.locator("tr[data-revision='1']").get_by_role("button", name="Restore").click()
    expect(reviewer.get_by_role("status").first).to_contain_text("restored as revision")
    expect(reviewer.get_by_label("Markdown")).to_have_value(re.compile(r"\| 2 GB \|"))

    # the file edited on disk (git) becomes a revision without a restart
    path = article_path(app, "en", "export-your-workspace")
    path.write_text(path.read_text(encoding="utf-8") + "\nEdited in git.\n", encoding="utf-8")
    reviewer.goto(live_server + "/console/articles")
    reviewer.goto(article_url + "/revisions")
    expect(reviewer.locator("tbody tr").first).to_contain_text("file on disk")

    ru = log_in(browser, live_server, "writer@example.com", locale="ru-RU")
    ru.goto(article_url + "?lang=ru")
    expect(ru.get_by_role("button", name="Отправить на проверку")).to_be_visible()
    shoot(ru, "editor-ru")
    ru.locator(".translations li", has_text="RU").get_by_role("link", name="Перевести").click()
    expect(ru.locator("[data-source] h1")).to_have_text("Export your workspace")
    ru.get_by_label(re.compile("^Заголовок")).fill("Экспорт рабочего пространства")
    shoot(ru, "translate-ru")
    with app.app_context():
        article = db.session.scalar(db.select(KbArticle).filter_by(slug="export-your-workspace"))
        assert article.state == "validated"       # the file on disk is what is published
    for page in (writer, reviewer, ru):
        page.context.close()
