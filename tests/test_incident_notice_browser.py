"""The incident notice on top of the widget and of the help center's pages, in the user's
language, in real headless Chromium (the pattern of ``test_widget_browser.py``: a live server on
the fixture knowledge base)."""
from __future__ import annotations

import pytest

from kb_server.extensions import db
from kb_server.models import Ticket
from kb_server.tickets import incidents
from test_widget_browser import browser, in_widget, live, new_page, open_widget  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def notice(live):
    """An incident with an English and a Russian notice, ended after the test."""
    app, _ = live
    with app.app_context():
        incident = Ticket(kind="incident", status="new", line=1, flagged_line=2, priority="P1",
                          request_class="outage", subject="Possible outage")
        db.session.add(incident)
        db.session.flush()
        incidents.publish_notice(incident, {"en": "We know sign-in is failing; fix expected by 14:00",
                                            "ru": "Вход не работает, исправим к 14:00"}, None)
        db.session.commit()
        incident_id = incident.id
    yield incident_id
    with app.app_context():
        incidents.end_notices(db.session.get(Ticket, incident_id))
        db.session.commit()


ENGLISH = "We know sign-in is failing; fix expected by 14:00"


@pytest.mark.parametrize("path,text", [("/demo", ENGLISH),
                                       ("/demo?lang=ru", "Вход не работает, исправим к 14:00")])
def test_the_widget_shows_the_active_notice_in_the_users_language(browser, live, notice, path, text):
    _, base = live
    with new_page(browser) as page:
        open_widget(page, base, path)
        banner = in_widget(page, ".lz-notice")
        banner.wait_for(state="visible")
        assert banner.inner_text() == text
        box, body = banner.bounding_box(), in_widget(page, ".lz-body").bounding_box()
        assert box["y"] < body["y"]                      # on top of the answers
        page.evaluate("Linezero.setLanguage('uk')")      # no Ukrainian text: the English one
        page.wait_for_function("""(text) => document.querySelector('linezero-widget').shadowRoot
            .querySelector('.lz-notice').textContent === text""", arg=ENGLISH)


def test_no_notice_no_banner(browser, live):
    _, base = live
    with new_page(browser) as page:
        open_widget(page, base)
        page.wait_for_load_state("networkidle")
        assert in_widget(page, ".lz-notice").is_hidden()


@pytest.mark.parametrize("path,text", [("/", ENGLISH), ("/?lang=ru", "Вход не работает, исправим к 14:00"),
                                       ("/search?q=reset+password", ENGLISH)])
def test_the_help_center_shows_the_active_notice_on_top(browser, live, notice, path, text):
    _, base = live
    with new_page(browser) as page:
        page.goto(base + path)
        banner = page.locator("[data-incident-notice]")
        assert banner.inner_text() == text and banner.is_visible()
        assert banner.bounding_box()["y"] < page.locator("main").bounding_box()["y"]
