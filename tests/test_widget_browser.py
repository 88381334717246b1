"""The widget in a real headless Chromium, on the demo page of a live server.

Run alone with ``pytest -m browser``. The server listens on 127.0.0.1 (a free port) in a thread;
Chromium never leaves loopback.
"""
from __future__ import annotations

import json
import re
import shutil
import threading
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from kb_server.extensions import db
from kb_server.models import Event, Site
from conftest import make_app
from staff_helpers import STAFF_ADMIN, add_staff
from tickets_helpers import database_down
from browser_helpers import browser, prepare_like_kb_serve, ring_contrast  # noqa: F401  (a fixture)

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parent / "fixtures"
WIDGET = "linezero-widget"     # Playwright's CSS selectors pierce the open shadow root


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """(app, base URL) of a live server on the fixture knowledge base."""
    tmp = tmp_path_factory.mktemp("widget-browser")
    shutil.copytree(FIXTURES / "articles", tmp / "articles")
    holder = {}
    # Bind first (port 0 = a free port), so the demo site can allow exactly this origin.
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    holder["app"] = make_app(tmp, DEMO_SITE_ORIGINS=[base])
    with holder["app"].app_context():
        add_staff(STAFF_ADMIN, "admin", token="test-token")     # reads the ticket back
    prepare_like_kb_serve(holder["app"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder["app"], base
    server.shutdown()
    thread.join(5)


@contextmanager
def new_page(browser, **options):
    """A page in a fresh browser context (desktop by default) that fails the test on a script
    error and never leaves loopback."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, "locale": "en-US",
                                     **options})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    context.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert not errors, errors


@pytest.fixture
def page(browser, live):
    with new_page(browser) as page:
        yield page


def in_widget(page, selector):
    return page.locator(f"{WIDGET} {selector}")


def results(page):
    """Search results (not the suggestions shown before typing)."""
    return in_widget(page, "ul[aria-label='Search results'] .lz-hit")


def active(page) -> dict:
    """What has the keyboard focus: the widget's inner element, or a page element."""
    return page.evaluate("""() => {
        const host = document.querySelector('linezero-widget');
        const inner = document.activeElement === host ? host.shadowRoot.activeElement : null;
        const el = inner || document.activeElement;
        return {inWidget: !!inner, cls: el ? el.className : '', tag: el ? el.localName : '',
                type: el ? el.getAttribute('type') : null, text: el ? el.textContent.trim() : ''};
    }""")


def open_widget(page, base, path="/demo"):
    page.goto(base + path)
    page.wait_for_function("window.Linezero && window.Linezero.version")
    in_widget(page, ".lz-launcher").click()
    in_widget(page, ".lz-input").wait_for()


def type_at_once(page, text):
    """Type ``text`` a key at a time, every keystroke in one task: no debounce timer can fire
    between them, whatever the machine's load, so only ``text`` is searched."""
    page.evaluate("""(text) => {
        const input = document.querySelector('linezero-widget').shadowRoot.querySelector('.lz-input');
        input.focus();
        for (let i = 1; i <= text.length; i++) {
            input.value = text.slice(0, i);
            input.dispatchEvent(new Event('input', {bubbles: true}));
        }
    }""", text)


def session_events(app, session_id):
    with app.app_context():
        rows = db.session.execute(db.select(Event).filter_by(session_id=session_id)
                                  .order_by(Event.id)).scalars().all()
        return [row.to_dict() for row in rows]


# --- the whole journey ---------------------------------------------------------------------------

def test_search_read_feedback_and_contact_support(page, live):
    app, base = live
    open_widget(page, base)
    launcher = in_widget(page, ".lz-launcher")
    assert launcher.get_attribute("aria-expanded") == "true"
    dialog = in_widget(page, "[role=dialog]")
    assert dialog.get_attribute("aria-modal") == "true"
    assert dialog.get_attribute("aria-label")

    # Search as you type: results with highlighted snippets.
    type_at_once(page, "reset password")     # (a slow machine would search "reset" midway)
    first = results(page).first
    first.wait_for()
    assert "Reset your password" in first.inner_text()
    assert in_widget(page, ".lz-hit mark").count() > 0
    page.wait_for_function("""() => document.querySelector('linezero-widget').shadowRoot
                                     .querySelector('.lz-sr').textContent.includes('found')""")

    # The article opens inside the widget, at the matched section.
    first.click()
    title = in_widget(page, ".lz-article-title")
    title.wait_for()
    assert title.inner_text() == "Reset your password"
    assert in_widget(page, ".lz-article h2").count() >= 2
    assert page.url == base + "/demo"          # the host page did not navigate

    # Not helpful, because it is unclear.
    in_widget(page, ".lz-feedback button:has-text('No')").click()
    in_widget(page, "input[value=unclear]").check()
    in_widget(page, "#lz-fb-comment").fill("Which email do you mean?")
    in_widget(page, ".lz-feedback button[type=submit]").click()
    in_widget(page, ".lz-thanks").wait_for()

    # Contact support: the message is the user's to write; the search goes along as context.
    in_widget(page, ".lz-feedback .lz-more button").click()
    message = in_widget(page, "#lz-c-message")
    assert message.input_value() == ""
    in_widget(page, "#lz-c-email").fill("ada@orbita.example")
    message.fill("I never get the reset email.")
    in_widget(page, ".lz-form button[type=submit]").click()
    reference = in_widget(page, ".lz-ref")
    reference.wait_for()
    ref = reference.inner_text().strip()
    assert re.fullmatch(r"LZ-\d+", ref), ref

    # The event trail of the anonymous session.
    session_id = page.evaluate("localStorage.getItem('lz_session')")
    assert re.fullmatch(r"[0-9a-f]{32}", session_id)
    events = session_events(app, session_id)
    kinds = [e["kind"] for e in events]
    assert kinds.index("search") < kinds.index("click") < kinds.index("view") < kinds.index("feedback")
    search = next(e for e in events if e["kind"] == "search")
    assert search["query"] == "reset password" and search["result_count"] >= 1
    assert "en/reset-password" in search["result_ids"]
    assert all(e["site_key"] == "demo" and e["page_url"] == base + "/demo" for e in events)
    assert all(e["language"] == "en" for e in events)
    view = next(e for e in events if e["kind"] == "view")
    assert view["article_id"] == "en/reset-password" and view["query"] == "reset password"
    feedback = next(e for e in events if e["kind"] == "feedback")
    assert feedback["data"] == {"helpful": False, "reason": "unclear"}
    assert feedback["message"] == "Which email do you mean?"

    # Staff see the ticket with what the user searched and read.
    request = urllib.request.Request(f"{base}/api/v1/tickets/{ref}",
                                     headers={"Authorization": "Bearer test-token"})
    with urllib.request.urlopen(request) as response:
        ticket = json.loads(response.read())
    ticket = ticket.get("ticket", ticket)
    assert ticket["reference"] == ref
    assert ticket["message"] == "I never get the reset email."
    context = json.dumps(ticket.get("context", ticket), ensure_ascii=False)
    assert "reset password" in context
    assert "en/reset-password" in context


CONTACT = {"en": ("Contact support", "Name (optional)"),
           "ru": ("Написать в поддержку", "Имя (необязательно)"),
           "uk": ("Написати в підтримку", "Ім'я (необов'язково)")}


@pytest.mark.parametrize("lang", ["en", "ru", "uk"])
def test_contact_support_is_at_hand_before_any_search_and_beside_an_article(page, live, lang):
    _, base = live
    contact, name = CONTACT[lang]
    open_widget(page, base, f"/demo?lang={lang}")
    link = in_widget(page, f".lz-body .lz-link:text-is('{contact}')")
    link.wait_for()                                         # the first panel, below the suggestions
    assert "lz-btn" not in link.get_attribute("class")      # a quiet link, not a button to press
    link.click()
    assert in_widget(page, "label[for=lz-c-name]").inner_text() == name
    in_widget(page, ".lz-form .lz-btn-2").click()          # Cancel: back to the first panel
    page.evaluate("Linezero.search('password')")
    in_widget(page, ".lz-count").wait_for()
    in_widget(page, ".lz-hit").first.click()
    in_widget(page, ".lz-article-title").wait_for()
    title = in_widget(page, ".lz-article-title").inner_text()
    in_widget(page, f".lz-contact .lz-link:text-is('{contact}')").click()    # beside the article
    in_widget(page, "#lz-c-message").wait_for()
    in_widget(page, ".lz-back").click()                     # back to the article it came from
    assert in_widget(page, ".lz-article-title").inner_text() == title


# --- isolation from the host page ----------------------------------------------------------------

HOST_STYLE_PROBE = """() => {
    document.getElementById('event-log').replaceChildren();   // the demo's own log of widget events
    const props = ['font-size', 'font-family', 'color', 'background-color', 'border-top-width',
                   'display', 'margin-top', 'line-height', 'box-sizing', 'width', 'height'];
    const out = {};
    for (const sel of ['html', 'body', 'h1', '.lead', '.plan', '.btn', 'nav a', 'table.invoices td']) {
        const style = getComputedStyle(document.querySelector(sel));
        out[sel] = Object.fromEntries(props.map(p => [p, style.getPropertyValue(p)]));
    }
    return out;
}"""


def test_a_contact_kept_while_the_database_is_down_says_so_in_the_users_language(page, live,
                                                                                monkeypatch):
    database_down(monkeypatch)
    _, base = live
    open_widget(page, base, "/demo?lang=ru")
    in_widget(page, ".lz-input").type("qqxzz wvkkj", delay=10)
    in_widget(page, ".lz-more button:has-text('Написать в поддержку')").click()    # after no results
    in_widget(page, "#lz-c-email").fill("ada@orbita.example")
    in_widget(page, "#lz-c-message").fill("Экспорт не работает.")
    with page.expect_response("**/api/v1/contact") as answer:
        in_widget(page, ".lz-form button[type=submit]").click()
    assert answer.value.status == 202                      # spooled by the real server
    in_widget(page, ".lz-sent-title").wait_for()
    said = in_widget(page, ".lz-sent-title").locator("..").inner_text()
    assert "Мы получили ваше сообщение" in said and "отправлять его ещё раз не нужно" in said
    assert in_widget(page, ".lz-ref").count() == 0


def test_host_page_styles_are_untouched_and_hostile_css_does_not_leak_in(page, browser, live):
    _, base = live
    # Baseline: the same page without the widget.
    bare = browser.new_context(viewport={"width": 1280, "height": 900})
    bare_page = bare.new_page()
    bare_page.route("**/widget.js", lambda route: route.abort())
    bare_page.goto(base + "/demo")
    before = bare_page.evaluate(HOST_STYLE_PROBE)
    bare.close()

    open_widget(page, base)
    in_widget(page, ".lz-input").fill("invoice")
    results(page).first.wait_for()
    after = page.evaluate(HOST_STYLE_PROBE)
    changed = {(sel, prop): (before[sel][prop], after[sel][prop])
               for sel in before for prop in before[sel] if before[sel][prop] != after[sel][prop]}
    assert not changed

    # The page's "* { font-size: 30px !important; color: red !important }", "button {display: none
    # !important}", "[hidden] {display: block !important}"... do not reach the widget.
    styles = page.evaluate("""() => {
        const root = document.querySelector('linezero-widget').shadowRoot;
        const get = (sel) => getComputedStyle(root.querySelector(sel));
        return {launcher: get('.lz-launcher').display, inputSize: get('.lz-input').fontSize,
                inputWidth: parseFloat(get('.lz-input').width), hitColor: get('.lz-hit-text').color,
                body: get('.lz-body').fontSize, border: get('.lz-body').borderTopWidth,
                live: get('.lz-sr').display, mark: get('mark').backgroundColor};
    }""")
    assert styles["launcher"] != "none"
    assert styles["inputSize"] == "15px" and styles["body"] == "15px"
    assert styles["inputWidth"] > 200
    assert styles["hitColor"] != "rgb(255, 0, 0)"
    assert styles["border"] == "0px"
    assert styles["mark"] != "rgb(0, 0, 0)"

    # Closed again, the panel is really hidden despite "[hidden] { display: block !important }".
    page.keyboard.press("Escape")
    assert not in_widget(page, ".lz-panel").is_visible()


# --- keyboard only -------------------------------------------------------------------------------

def test_keyboard_only(page, live):
    _, base = live
    page.goto(base + "/demo")
    page.wait_for_function("window.Linezero && window.Linezero.version")
    for _ in range(40):                       # Tab through the page to the launcher
        page.keyboard.press("Tab")
        if active(page)["cls"] == "lz-launcher":
            break
    else:
        pytest.fail("the launcher is not reachable with Tab")

    page.keyboard.press("Enter")
    assert active(page)["cls"] == "lz-input"
    assert in_widget(page, ".lz-launcher").get_attribute("aria-expanded") == "true"

    page.keyboard.type("link expired")
    results(page).first.wait_for()
    page.keyboard.press("Tab")
    focused = active(page)
    assert focused["cls"] == "lz-hit" and "Reset your password" in focused["text"]

    page.keyboard.press("Enter")
    in_widget(page, ".lz-article-title").wait_for()
    assert active(page)["text"] == "The link has expired"     # the section the result points to

    # Focus stays in the dialog: Tab cycles through it.
    for _ in range(30):
        page.keyboard.press("Tab")
        assert active(page)["inWidget"]
        assert active(page)["cls"] != "lz-launcher"

    page.keyboard.press("Escape")
    assert not in_widget(page, ".lz-panel").is_visible()
    assert active(page)["cls"] == "lz-launcher"
    assert in_widget(page, ".lz-launcher").get_attribute("aria-expanded") == "false"


def test_arrow_keys_move_through_results(page, live):
    _, base = live
    open_widget(page, base)
    page.keyboard.type("password")
    results(page).first.wait_for()
    page.keyboard.press("ArrowDown")
    assert active(page)["cls"] == "lz-hit"
    page.keyboard.press("ArrowUp")
    assert active(page)["cls"] == "lz-input"


# --- languages -----------------------------------------------------------------------------------

def test_russian_page_gets_the_russian_ui(page, live):
    _, base = live
    open_widget(page, base, "/demo?lang=ru")
    assert in_widget(page, ".lz-input").get_attribute("placeholder") == "Найти ответ…"
    assert in_widget(page, ".lz-launcher").inner_text() == "Помощь"
    in_widget(page, ".lz-input").fill("сбросить пароль")
    first = in_widget(page, "ul[aria-label='Результаты поиска'] .lz-hit").first
    first.wait_for()
    assert first.locator(".lz-hit-title").inner_text() == "Как сбросить пароль"

    page.evaluate("Linezero.setLanguage('uk')")
    assert in_widget(page, ".lz-input").get_attribute("placeholder") == "Знайти відповідь…"


def test_a_russian_question_on_an_english_page_gets_the_russian_articles(page, live):
    _, base = live
    open_widget(page, base, "/demo")
    in_widget(page, ".lz-input").fill("сбросить пароль")
    first = results(page).first
    first.wait_for()
    assert first.locator(".lz-hit-title").inner_text() == "Как сбросить пароль"
    in_widget(page, ".lz-input").fill("reset password")     # Latin words: the page's language
    page.wait_for_function("""() => document.querySelector('linezero-widget').shadowRoot
                                     .querySelector('.lz-hit-title')?.textContent === 'Reset your password'""")


# --- suggestions, JS API, events -----------------------------------------------------------------

def test_page_suggestions_and_presets(page, live):
    _, base = live
    open_widget(page, base, "/demo/login")          # articles with urls: ["/login*"]
    suggestion = in_widget(page, ".lz-hit").first
    suggestion.wait_for()
    assert suggestion.inner_text().startswith("Reset your password")

    page.goto(base + "/demo/billing/plans")
    page.wait_for_function("window.Linezero && window.Linezero.version")
    page.evaluate("Linezero.suggest(['two-factor', 'no-such-article-about-invoices'])")
    page.evaluate("Linezero.open()")
    titles = in_widget(page, ".lz-hit-title")
    page.wait_for_function("""() => document.querySelector('linezero-widget').shadowRoot
                                     .querySelectorAll('.lz-hit').length >= 2""")
    texts = titles.all_inner_texts()
    assert texts[0] != "Reset your password"
    assert "Download invoices" in texts           # page match for /billing/*
    in_widget(page, ".lz-hit").first.click()
    in_widget(page, ".lz-article-title").wait_for()


def test_a_suggestion_tapped_while_a_search_is_in_flight_opens_the_article_not_dimmed(page, live):
    """The search answers only after the article opened (a held route): the article view is
    not left busy (aria-busy, opacity .6) by the search it cancelled."""
    _, base = live
    held = []
    page.route("**/api/v1/search?*", lambda route: held.append(route))
    open_widget(page, base, "/demo/login")
    suggestion = in_widget(page, ".lz-hit").first
    suggestion.wait_for()
    type_at_once(page, "password")
    body = in_widget(page, ".lz-body")
    page.wait_for_function("""() => document.querySelector('linezero-widget').shadowRoot
                                     .querySelector('.lz-body').getAttribute('aria-busy') === 'true'""")
    suggestion.click()
    in_widget(page, ".lz-article-title").wait_for()
    assert body.get_attribute("aria-busy") is None
    assert body.evaluate("el => getComputedStyle(el).opacity") == "1"
    for route in held:
        route.continue_()


def test_js_api_and_events(page, live):
    _, base = live
    page.goto(base + "/demo")
    page.wait_for_function("window.Linezero && window.Linezero.version")
    page.evaluate("""() => {
        window.seen = [];
        for (const name of ['open', 'close', 'search', 'article', 'contact'])
            Linezero.on(name, (detail) => seen.push(['api', name, detail]));
        for (const name of ['open', 'search'])
            window.addEventListener('linezero:' + name, (e) => seen.push(['dom', name, e.detail]));
        Linezero.identify({email: 'ada@orbita.example', name: 'Ada'});
        Linezero.search('download invoice');
    }""")
    results(page).first.wait_for()
    assert in_widget(page, ".lz-input").input_value() == "download invoice"
    seen = page.evaluate("seen")
    assert ["api", "open", {}] in seen and ["dom", "open", {}] in seen
    search = next(detail for source, name, detail in seen if source == "dom" and name == "search")
    assert search["query"] == "download invoice" and "en/download-invoices" in search["results"]

    results(page).first.click()
    in_widget(page, ".lz-article-title").wait_for()
    in_widget(page, ".lz-feedback button:has-text('Yes')").click()
    in_widget(page, ".lz-thanks").wait_for()

    # Contact from the results: name and email come from identify().
    in_widget(page, ".lz-back").click()
    in_widget(page, ".lz-more button").click()
    assert in_widget(page, "#lz-c-email").input_value() == "ada@orbita.example"
    assert in_widget(page, "#lz-c-name").input_value() == "Ada"
    in_widget(page, "#lz-c-email").fill("not an email")
    in_widget(page, ".lz-form button[type=submit]").click()
    assert in_widget(page, "#lz-c-email").get_attribute("aria-invalid") == "true"
    assert in_widget(page, "#lz-c-email-error").inner_text() == "Enter a valid email address."

    page.evaluate("Linezero.close()")
    names = [name for source, name, _ in page.evaluate("seen") if source == "api"]
    assert names == ["open", "search", "article", "close"]


def test_typing_fast_sends_few_searches_and_shows_the_last(page, live):
    _, base = live
    open_widget(page, base)
    searches = []
    page.on("request", lambda r: "/api/v1/search?" in r.url and searches.append(r.url))
    type_at_once(page, "download invoice")
    page.wait_for_function("""() => document.querySelector('linezero-widget').shadowRoot
                                     .querySelector('.lz-hit-title')?.textContent === 'Download invoices'""")
    page.wait_for_timeout(400)
    assert len(searches) == 1, searches
    assert "q=download+invoice" in searches[-1]


def test_results_of_a_spelling_correction_say_what_they_answer(page, live):
    """The server answers "pasword" with the results of "password" (``showing``, in hybrid mode
    when nothing answers the typed words): the widget says so above them."""
    _, base = live
    answer = {"query": "pasword", "language": "en", "mode": "hybrid", "total": 1, "page": 1,
              "per_page": 10, "did_you_mean": None, "showing": "password", "facets": {},
              "hits": [{"id": "en/reset-password", "slug": "reset-password", "language": "en",
                        "title": "Reset your password", "section": None, "anchor": None,
                        "snippet": "", "summary": "Set a new password.", "category": "account",
                        "score": 1.0, "url": None}]}
    page.route("**/api/v1/search?*", lambda route: route.fulfill(json=answer))
    open_widget(page, base)
    in_widget(page, ".lz-input").fill("pasword")
    showing = in_widget(page, ".lz-showing")
    showing.wait_for()
    assert showing.inner_text() == "Showing results for password"
    assert results(page).first.inner_text().startswith("Reset your password")


# --- a product on another origin -----------------------------------------------------------------

PARTNER_PAGE = """<!doctype html><html lang="en"><head><title>Partner</title></head>
<body><h1>Partner product</h1>
<script src="{base}/widget.js" data-site="partner" data-color="#0a7d45" defer></script>
</body></html>"""


def wait_for_event(app, **filters):
    """The first stored event matching ``filters`` (events are posted asynchronously)."""
    import time
    for _ in range(50):
        with app.app_context():
            event = db.session.execute(db.select(Event).filter_by(**filters)).scalars().first()
            if event is not None:
                return event.to_dict()
        time.sleep(0.1)
    pytest.fail(f"no event {filters}")


@pytest.fixture(scope="module")
def product_origins(live):
    """Two product sites on their own origins (tiny loopback servers) embedding the widget."""
    _, base = live
    html = PARTNER_PAGE.format(base=base).encode()

    def product_page(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [html]

    servers = [make_server("127.0.0.1", 0, product_page, threaded=True) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield [f"http://127.0.0.1:{server.server_port}" for server in servers]
    for server in servers:
        server.shutdown()


def test_widget_on_a_configured_origin_and_on_a_foreign_one(page, live, product_origins):
    app, base = live
    partner, stranger = product_origins
    with app.app_context():
        db.session.add(Site(key="partner", name="Partner", origins=[partner],
                            default_language="en", categories=["billing"]))
        db.session.commit()

    # Allowed origin: CORS lets the widget search (GET) and log (POST with a preflight).
    page.goto(partner + "/app/billing")
    page.wait_for_function("window.Linezero && window.Linezero.version")
    assert in_widget(page, ".lz-launcher").evaluate(
        "el => getComputedStyle(el).backgroundColor") == "rgb(10, 125, 69)"     # data-color
    page.evaluate("Linezero.open()")
    in_widget(page, ".lz-site:text-is('Partner')").wait_for()            # the site's config
    in_widget(page, ".lz-input").fill("invoice")
    in_widget(page, ".lz-input").press("Enter")
    results(page).first.wait_for()
    assert results(page).first.locator(".lz-hit-title").inner_text() == "Download invoices"
    event = wait_for_event(app, site_key="partner", kind="search")
    assert event["query"] == "invoice" and event["page_url"] == partner + "/app/billing"

    # The site only shows billing: a password question finds nothing there.
    in_widget(page, ".lz-input").fill("reset password")
    in_widget(page, ".lz-count:has-text('No articles found')").wait_for()

    # Another origin: the browser blocks the answers, the widget says search is unavailable.
    page.goto(stranger + "/")
    page.wait_for_function("window.Linezero && window.Linezero.version")
    page.evaluate("Linezero.search('invoice')")
    in_widget(page, ".lz-error:has-text('Search is not available')").wait_for()
    assert results(page).count() == 0


# --- real host pages: a strict CSP, a page wider than the phone, a Bootstrap modal -----------------

NODE_MODULES = Path(__file__).parents[1] / "node_modules"    # package.json, make install-test
BOOTSTRAP = NODE_MODULES / "bootstrap" / "dist"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "reduced_motion": "reduce"}                  # the panel without its slide-in
EMBED = '<script src="{base}/widget.js" data-site="host" defer></script>'
HOST_PAGES = {
    "/csp": ("<!doctype html><html lang='en'><title>Strict CSP</title><h1>Locked-down product</h1>"
             + EMBED,
             {"Content-Security-Policy": "default-src 'self'; script-src 'self' {base}; "
                                         "style-src 'self'; connect-src {base}"}),
    "/dark": ("<!doctype html><html lang='en'><title>Dark</title><body style='background:#0d1117;"
              "color:#e6edf3'><h1>Dark product</h1><a href='/dark'>Home</a>" + EMBED, {}),
    # A long unbreakable line makes the page wider than a phone's screen.
    "/wide": ("<!doctype html><html lang='en'><meta name='viewport' content='width=device-width, "
              "initial-scale=1'><title>Wide</title><h1>Wide product</h1><pre>" + "x" * 110
              + "</pre>" + EMBED, {}),
    "/modal": ("<!doctype html><html lang='en'><link rel='stylesheet' href='/bootstrap.css'>"
               "<title>Modal</title><div class='modal' id='dialog' tabindex='-1'><div class='modal-dialog'>"
               "<div class='modal-content'><div class='modal-body'><label>Plan name <input></label>"
               "</div></div></div></div><script src='/bootstrap.js'></script>"
               "<script>new bootstrap.Modal('#dialog').show()</script>" + EMBED, {}),
}
VENDORED = {"/bootstrap.js": BOOTSTRAP / "js" / "bootstrap.bundle.min.js",
            "/bootstrap.css": BOOTSTRAP / "css" / "bootstrap.min.css"}


@pytest.fixture(scope="module")
def host(live):
    """A product on an origin of its own, registered as site "host", serving HOST_PAGES and
    Bootstrap from node_modules."""
    app, base = live

    def host_app(environ, start_response):
        path = environ["PATH_INFO"]
        if path in VENDORED:
            kind = "text/css" if path.endswith(".css") else "text/javascript"
            start_response("200 OK", [("Content-Type", kind)])
            return [VENDORED[path].read_bytes()]
        html, headers = HOST_PAGES[path]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  *((k, v.format(base=base)) for k, v in headers.items())])
        return [html.format(base=base).encode()]

    server = make_server("127.0.0.1", 0, host_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_port}"
    with app.app_context():
        db.session.add(Site(key="host", name="Host", origins=[origin], default_language="en"))
        db.session.commit()
    yield origin
    server.shutdown()


def widget_rect(page, selector) -> dict:
    """Where an element of the widget is, relative to what the user sees (the visual viewport)."""
    return page.evaluate("""(selector) => {
        const r = document.querySelector('linezero-widget').shadowRoot.querySelector(selector)
                  .getBoundingClientRect();
        const x = r.left - visualViewport.offsetLeft, y = r.top - visualViewport.offsetTop;
        return {left: x, top: y, right: x + r.width, bottom: y + r.height, width: r.width,
                screen: [visualViewport.width, visualViewport.height]};
    }""", selector)


def on_screen(rect) -> bool:
    width, height = rect["screen"]
    return rect["left"] >= 0 and rect["top"] >= 0 and rect["right"] <= width and rect["bottom"] <= height


def test_styled_and_searching_under_the_documented_strict_csp(page, host):
    page.add_init_script("""window.violations = [];
        document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));""")
    page.goto(host + "/csp")
    page.wait_for_function("window.Linezero && window.Linezero.version")
    launcher = in_widget(page, ".lz-launcher")
    assert launcher.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(36, 81, 199)"
    launcher.click()
    panel = widget_rect(page, ".lz-panel")
    assert panel["width"] == 390 and panel["right"] == 1280 - 20
    in_widget(page, ".lz-input").fill("invoice")
    results(page).first.wait_for()                       # connect-src lets the widget search
    assert page.evaluate("violations") == []


def test_launcher_and_panel_stay_on_a_phone_screen_of_a_wider_page(browser, host):
    with new_page(browser, **PHONE) as phone:
        phone.goto(host + "/wide")
        phone.wait_for_function("window.Linezero && window.Linezero.version")
        assert phone.evaluate("document.documentElement.scrollWidth") > 390    # the page overflows
        launcher = widget_rect(phone, ".lz-launcher")
        assert on_screen(launcher) and launcher["right"] == 390 - 20
        in_widget(phone, ".lz-launcher").tap()
        panel = widget_rect(phone, ".lz-panel")
        assert (panel["left"], panel["top"], panel["right"], panel["bottom"]) == (0, 0, 390, 844)
        assert on_screen(widget_rect(phone, ".lz-close"))


def test_demo_page_fits_a_phone_screen(browser, live):
    _, base = live
    with new_page(browser, **PHONE) as phone:
        phone.goto(base + "/demo?hostile=0")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_typing_in_the_widget_over_a_bootstrap_modal(page, host):
    if not BOOTSTRAP.exists():
        pytest.skip("Bootstrap is not installed (make install-test runs npm ci)")
    page.goto(host + "/modal")
    page.locator("#dialog.show").wait_for()              # the modal and its focus trap are on
    page.wait_for_function("window.Linezero && window.Linezero.version")
    in_widget(page, ".lz-launcher").click()
    page.keyboard.type("invoice")
    assert in_widget(page, ".lz-input").input_value() == "invoice"
    assert active(page)["cls"] == "lz-input"
    results(page).first.wait_for()


def test_focus_rings_stand_out_on_a_dark_host_page_and_in_the_panel(page, host):
    page.goto(host + "/dark")
    page.wait_for_function("window.Linezero && window.Linezero.version")
    for _ in range(10):                                     # Tab to the launcher
        page.keyboard.press("Tab")
        if active(page)["cls"] == "lz-launcher":
            break
    launcher = in_widget(page, ".lz-launcher")
    assert ring_contrast(launcher, (13, 17, 23)) >= 3       # WCAG 1.4.11 on the #0d1117 page
    assert ring_contrast(launcher, (255, 255, 255)) >= 3    # and on a light one
    page.keyboard.press("Enter")
    page.keyboard.type("invoice")
    results(page).first.wait_for()
    page.keyboard.press("Tab")
    assert ring_contrast(in_widget(page, ".lz-hit").first, (255, 255, 255)) >= 3   # the white panel


def test_opened_article_has_its_focus_in_sight_and_visible(browser, live):
    _, base = live
    with new_page(browser, viewport={"width": 1280, "height": 560}) as page:   # a short panel
        open_widget(page, base)
        in_widget(page, ".lz-input").fill("link expired")
        section = results(page).first.locator(".lz-hit-section")
        section.locator("mark").first.wait_for()            # the heading marks the query's words
        assert section.locator("mark").all_inner_texts() == ["link", "expired"]
        results(page).first.click()
        in_widget(page, ".lz-article-title").wait_for()
        focus = page.evaluate("""() => {
            const root = document.querySelector('linezero-widget').shadowRoot;
            const el = root.activeElement, style = getComputedStyle(el);
            const r = el.getBoundingClientRect(), body = root.querySelector('.lz-body').getBoundingClientRect();
            return {text: el.textContent, inside: r.top >= body.top && r.bottom <= body.bottom,
                    ring: style.outlineStyle !== 'none' || style.boxShadow !== 'none'};
        }""")
        assert focus == {"text": "The link has expired", "inside": True, "ring": True}
