"""A tour of the help center and the widget in real headless Chromium, as a new user takes it:
no page or widget state breaks its Content-Security-Policy or logs an error; tables scroll
sideways on a phone instead of breaking words; focus rings stand out on light and dark pages."""
from __future__ import annotations

import os
import re
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from conftest import make_app
from browser_helpers import browser, ring_contrast  # noqa: F401  (browser: a fixture)

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parent / "fixtures"
WIDGET = "linezero-widget"     # Playwright's CSS selectors pierce the open shadow root
PHONE = {"width": 390, "height": 844}
WHITE, SOFT, DARK = (255, 255, 255), (244, 246, 249), (13, 17, 23)
SHOTS = os.environ.get("LZ_SHOTS")
# every violation of the page's CSP, also where the browser itself would not log it
REPORT_VIOLATIONS = """document.addEventListener('securitypolicyviolation', (e) => console.error(
    'CSP violation: ' + e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || '')));"""


def shoot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A live server on the fixture knowledge base plus a pricing article with an aligned,
    wide table."""
    tmp = tmp_path_factory.mktemp("tour")
    shutil.copytree(FIXTURES / "articles", tmp / "articles")
    shutil.copy(FIXTURES / "tour" / "plans-and-pricing.md", tmp / "articles" / "en")
    holder = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    holder["app"] = make_app(tmp, DEMO_SITE_ORIGINS=[url])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join(5)


@contextmanager
def touring(browser, **options):
    """A page whose console errors, script errors and CSP violations are collected (as
    "URL: message"); it never leaves loopback."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, "locale": "en-US",
                                     **options})
    context.add_init_script(REPORT_VIOLATIONS)
    context.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.problems = []
    page.on("console", lambda message: message.type == "error" and page.problems.append(
        f"{message.location.get('url')}: {message.text}"))
    page.on("pageerror", lambda error: page.problems.append(f"{page.url}: {error}"))
    try:
        yield page
    finally:
        context.close()


def open_widget(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("window.Linezero && window.Linezero.version")
    page.locator(f"{WIDGET} .lz-launcher").click()
    page.locator(f"{WIDGET} .lz-input").wait_for()


def test_no_page_or_widget_state_breaks_the_csp_or_logs_an_error(browser, base):
    with touring(browser) as page:
        for path in ("/", "/?lang=ru", "/c/billing", "/search?q=password", "/search?q=qqxzz+wvkkj",
                     "/a/en/plans-and-pricing", "/a/uk/reset-password", "/?lang=en", "/contact"):
            page.goto(base + path)
            expect(page.locator("h1").first).to_be_visible()
        shoot(page, "tour-contact")
        page.goto(base + "/a/en/reset-password")                  # suggestions, feedback form
        page.get_by_role("combobox").press_sequentially("reset pa")
        expect(page.get_by_role("listbox").get_by_role("option").first).to_be_visible()
        page.get_by_role("button", name="No").click()
        expect(page.get_by_label("Tell us more (optional)")).to_be_visible()
        page.goto(base + "/a/en/no-such-article")
        expect(page.locator("h1")).to_be_visible()
        missing = f"{base}/a/en/no-such-article: Failed to load resource: the server responded " \
                  f"with a status of 404 (NOT FOUND)"                  # the 404 page itself
        assert page.problems == [missing]
        page.problems.clear()

        open_widget(page, base + "/demo")                              # suggestions, contact link
        widget = page.locator(WIDGET)
        widget.locator(".lz-input").fill("plans")                      # results, an aligned table
        widget.locator("ul[aria-label='Search results'] .lz-hit").first.click()
        expect(widget.locator(".lz-article table")).to_be_visible()
        widget.locator(".lz-feedback button:has-text('No')").click()  # the reasons form
        expect(widget.locator("#lz-fb-comment")).to_be_visible()
        widget.locator(".lz-back").click()
        widget.locator(".lz-input").fill("qqxzz wvkkj")                # no results
        widget.locator(".lz-more button").click()                      # the contact form
        expect(widget.locator("#lz-c-email")).to_be_visible()
        assert page.problems == []


def test_aligned_table_columns_keep_their_alignment(browser, base):
    with touring(browser) as page:
        page.goto(base + "/a/en/plans-and-pricing")
        aligns = page.locator(".article-body tbody tr").first.locator("td").evaluate_all(
            "cells => cells.map(cell => getComputedStyle(cell).textAlign)")    # "-webkit-right": align
        assert [align.removeprefix("-webkit-") for align in aligns[1:]] == ["center", "right", "right", "left"]
        assert page.problems == []


def words_broken(table) -> list[str]:
    """The words of a table's cells that wrap inside themselves (one word on two lines)."""
    return table.evaluate("""(table) => {
        const broken = [];
        for (const cell of table.querySelectorAll('th, td')) {
            const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                for (const word of node.data.matchAll(/\\S+/g)) {
                    const range = document.createRange();
                    range.setStart(node, word.index);
                    range.setEnd(node, word.index + word[0].length);
                    const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                    if (tops.size > 1) broken.push(word[0]);
                }
            }
        }
        return broken;
    }""")


def test_a_wide_table_scrolls_sideways_on_a_phone_instead_of_breaking_words(browser, base):
    with touring(browser, viewport=PHONE) as page:
        page.goto(base + "/a/en/plans-and-pricing")
        table = page.locator(".article-body table")
        table.scroll_into_view_if_needed()
        shoot(page, "tour-table-phone")
        assert words_broken(table) == []
        assert table.evaluate("t => t.scrollWidth > t.clientWidth")       # it scrolls itself
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        page.goto(base + "/demo?hostile=0")                              # the widget's article view
        page.wait_for_function("window.Linezero && window.Linezero.version")
        page.evaluate("Linezero.search('plans')")
        widget = page.locator(WIDGET)
        widget.locator("ul[aria-label='Search results'] .lz-hit").first.click()
        table = widget.locator(".lz-article table")
        table.scroll_into_view_if_needed()
        shoot(page, "tour-widget-table-phone")
        assert words_broken(table) == []
        assert table.evaluate("t => t.scrollWidth > t.clientWidth")


def test_help_center_focus_rings_stand_out_on_light_backgrounds(browser, base):
    with touring(browser) as page:
        page.goto(base + "/a/en/reset-password")
        page.keyboard.press("Tab")                                       # the skip link
        page.keyboard.press("Tab")                                       # the brand link (header)
        for _ in range(3):
            page.keyboard.press("Tab")
            focused = page.locator(":focus")
            assert ring_contrast(focused, SOFT) >= 3, focused.evaluate("el => el.outerHTML")
        page.locator("button[data-helpful=yes]").focus()
        page.keyboard.press("Tab")                                       # "No", on white
        assert ring_contrast(page.locator(":focus"), WHITE) >= 3
        assert ring_contrast(page.locator(":focus"), DARK) >= 3           # and on a dark page
