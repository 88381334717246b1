"""The help center in real headless Chromium: search, results, article, feedback, contact, mobile."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browser_helpers import browser, live_server, page  # noqa: F401  (fixtures)
from tickets_helpers import database_down

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser

MOBILE = {"width": 375, "height": 740}
SHOTS = os.environ.get("LZ_SHOTS")


def shoot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))
PHONE = {"width": 390, "height": 844}


def is_api_post(path: str):
    return lambda request: request.method == "POST" and request.url.endswith(path)


def is_event(kind: str):
    return lambda request: is_api_post("/api/v1/events")(request) and \
        request.post_data_json["kind"] == kind


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_search_open_article_and_say_it_did_not_help(page, live_server):
    page.goto(live_server + "/")
    page.get_by_label("Search the help center").fill("reset password")
    with page.expect_request(is_api_post("/api/v1/events")) as search_event:
        page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search\?q=reset\+password"))
    expect(page.get_by_role("navigation", name="Language", exact=True)).to_be_visible()    # filters open
    expect(page.locator(".snippet mark").first).to_be_visible()
    assert "password" in [m.lower() for m in page.locator(".snippet mark").all_inner_texts()]
    event = search_event.value.post_data_json
    assert event["kind"] == "search" and event["query"] == "reset password"
    assert event["result_ids"][0] == "en/reset-password" and event["result_count"] == 2
    session_id = event["session_id"]
    assert session_id == page.evaluate("localStorage.getItem('lz_session')")

    with page.expect_request(is_api_post("/api/v1/events")) as click_event:
        page.get_by_role("link", name="Reset your password").click()
    assert click_event.value.post_data_json["kind"] == "click"
    expect(page).to_have_url(re.compile(r"/a/en/reset-password$"))   # the title's words: its top
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    expect(page.get_by_role("navigation", name="On this page")).to_be_visible()

    page.get_by_role("button", name="No").click()
    page.get_by_label("It is hard to understand").check()
    page.get_by_label("Tell us more (optional)").fill("Which email address?")
    with page.expect_request(is_api_post("/api/v1/feedback")) as feedback:
        page.get_by_role("button", name="Send").click()
    expect(page.locator("#feedback .status")).to_have_text("Thank you for your feedback!")
    expect(page.get_by_role("button", name="No")).to_be_hidden()
    sent = feedback.value.post_data_json
    assert sent == {**sent, "article_id": "en/reset-password", "helpful": False, "reason": "unclear",
                    "comment": "Which email address?", "query": "reset password",
                    "session_id": session_id}


def test_search_box_suggests_articles_as_you_type_with_the_keyboard(page, live_server):
    page.goto(live_server + "/")
    box = page.get_by_role("combobox", name="Search the help center")
    box.press_sequentially("reset pass")
    listbox = page.get_by_role("listbox", name="Suggested articles")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    first = listbox.get_by_role("option").first
    expect(first).to_contain_text("Reset your password")
    shoot(page, "helpcenter-suggestions")
    box.press("ArrowDown")
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    shoot(page, "helpcenter-suggestion-chosen")
    box.press("ArrowUp")                                   # back in the box: nothing chosen
    expect(box).not_to_have_attribute("aria-activedescendant", re.compile("."))
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press("ArrowDown")                                 # the list again, its first option chosen
    expect(first).to_have_attribute("aria-selected", "true")
    with page.expect_request(is_event("view")) as viewed, \
            page.expect_request(is_event("search")) as searched:
        box.press("Enter")
    expect(page).to_have_url(re.compile(r"/a/en/reset-password"))
    event = searched.value.post_data_json
    assert event["query"] == "reset pass" and event["result_ids"][0] == "en/reset-password"
    assert viewed.value.post_data_json["query"] == "reset pass"      # what opened the article


@pytest.mark.parametrize("lang, typed, label, title", [
    ("ru", "сбросить пар", "Подходящие статьи", "Как сбросить пароль"),
    ("uk", "скинути пар", "Відповідні статті", "Як скинути пароль"),
])
def test_suggestions_speak_the_pages_language(page, live_server, lang, typed, label, title):
    page.goto(live_server + f"/search?q=invoice&lang={lang}")    # the header's box
    box = page.get_by_role("combobox")
    box.fill("")
    box.press_sequentially(typed)
    expect(page.get_by_role("listbox", name=label).get_by_role("option").first).to_contain_text(title)
    shoot(page, f"helpcenter-suggestions-{lang}")
    box.press("Enter")                                     # no suggestion chosen: a search
    expect(page).to_have_url(re.compile(r"/search\?q="))


def test_failing_events_never_break_the_page(page, live_server):
    page.route("**/api/v1/events", lambda route: route.abort())
    page.goto(live_server + "/search?q=invoice")
    expect(page.get_by_role("link", name="Download invoices")).to_be_visible()
    page.get_by_role("link", name="Download invoices").click()
    page.get_by_role("button", name="Yes").click()
    expect(page.locator("#feedback .status")).to_have_text("Thank you for your feedback!")


def test_contact_form_shows_the_ticket_reference(page, live_server):
    page.goto(live_server + "/contact?q=refund+for+a+double+charge")
    expect(page.get_by_label("Message")).to_have_value("")
    page.get_by_label("Your email").fill("ann@example.com")
    page.get_by_label("Message").fill("I was charged twice in October.")
    with page.expect_request(is_api_post("/api/v1/contact")) as contact:
        page.get_by_role("button", name="Send").click()
    expect(page.locator("#contact-reference")).to_have_text(re.compile(r"^LZ-\d+$"))
    expect(page.locator("#contact-form")).to_be_hidden()
    expect(page.get_by_text("Describe your problem")).to_be_hidden()     # the prompt went with it
    sent = contact.value.post_data_json
    assert sent["query"] == "refund for a double charge" and sent["email"] == "ann@example.com"
    assert sent["message"] == "I was charged twice in October."


def test_contact_form_kept_while_the_database_is_down_says_so_in_ukrainian(page, live_server,
                                                                           monkeypatch):
    database_down(monkeypatch)
    page.goto(live_server + "/contact?lang=uk")
    page.get_by_label("Ваша електронна пошта").fill("ann@example.com")
    page.get_by_label("Повідомлення").fill("Експорт не працює.")
    with page.expect_response(lambda response: response.url.endswith("/api/v1/contact")) as answer:
        page.get_by_role("button", name="Надіслати").click()
    assert answer.value.status == 202
    expect(page.locator("#contact-done")).to_contain_text("надсилати його ще раз не потрібно")
    expect(page.locator("#contact-reference")).to_have_count(0)
    expect(page.locator("#contact-form")).to_be_hidden()


def test_contact_form_points_at_a_refused_email_in_the_pages_language(page, live_server):
    page.goto(live_server + "/contact?lang=uk")
    page.get_by_label("Ваша електронна пошта").fill("a@b")      # the browser's check lets it by
    page.get_by_label("Повідомлення").fill("Експорт не працює.")
    page.get_by_role("button", name="Надіслати").click()
    expect(page.locator("#contact-status")).to_have_text("Введіть правильну адресу пошти.")
    email = page.get_by_label("Ваша електронна пошта")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()
    email.fill("ann@example.com")
    page.get_by_role("button", name="Надіслати").click()
    expect(page.locator("#contact-reference")).to_have_text(re.compile(r"^LZ-\d+$"))


@pytest.mark.parametrize("status, error, said", [
    (429, "5 per 1 minute", "Слишком много запросов. Подождите минуту."),
    (403, "this origin may not post for this site", "Не удалось отправить. Попробуйте ещё раз.")])
def test_contact_form_refusals_are_said_in_the_pages_language_only(page, live_server, status, error, said):
    """The server's reason is English and for developers: the page says its own words (a
    429 asks to wait, as the widget does)."""
    page.route("**/api/v1/contact", lambda route: route.fulfill(
        status=status, content_type="application/json", body=f'{{"error": "{error}", "status": {status}}}'))
    page.goto(live_server + "/contact?lang=ru")
    page.get_by_label("Ваш email").fill("ann@example.com")
    page.get_by_label("Сообщение").fill("Экспорт не работает.")
    page.get_by_role("button", name="Отправить").click()
    expect(page.locator("#contact-status")).to_have_text(said)


def test_usable_on_a_375px_phone(browser, live_server):
    context = browser.new_context(viewport=MOBILE, locale="ru-RU")
    page = context.new_page()
    try:
        page.goto(live_server + "/")
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        assert no_horizontal_scroll(page)
        box = page.get_by_label("Поиск по справочному центру").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= MOBILE["width"]
        page.get_by_label("Поиск по справочному центру").fill("пароль")
        page.keyboard.press("Enter")
        expect(page.get_by_role("link", name="Как сбросить пароль")).to_be_visible()
        assert no_horizontal_scroll(page)
        page.get_by_role("link", name="Как сбросить пароль").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Как сбросить пароль")
        expect(page.get_by_role("button", name="Нет")).to_be_visible()
        assert no_horizontal_scroll(page)
    finally:
        context.close()


def test_results_come_before_the_filters_on_a_phone(browser, live_server):
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    try:
        page.goto(live_server + "/search?q=password")
        first = page.locator(".hit").first.bounding_box()
        assert first["y"] + first["height"] <= PHONE["height"]     # the whole first result
        language_filter = page.get_by_role("navigation", name="Language", exact=True)
        expect(language_filter).to_be_hidden()
        page.get_by_text("Filters").click()
        expect(language_filter).to_be_visible()
    finally:
        context.close()
