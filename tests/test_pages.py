"""Server-rendered help-center pages: home, category, article, search results, contact, i18n."""
from __future__ import annotations

import re

import pytest

from kb_server import i18n, search
from kb_server.views import public
from kb_server.extensions import db
from kb_server.models import Event

XSS_ARTICLE = """---
title: Scripted article
slug: scripted
language: en
category: account
---
Trampoline words <script>alert(1)</script> stay text.

## Image <img src=x onerror=alert(2)>
<a href="javascript:alert(3)">click</a>
"""


def page(client, url, status=200, **kwargs) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


# --- layout, accessibility, UI language ------------------------------------------------------
def test_home_lists_categories_and_popular_articles(client):
    html = page(client, "/?lang=en")
    assert '<html lang="en">' in html
    assert '<a href="/c/account">Account and sign-in</a>' in html
    assert '<a href="/c/billing">Billing</a>' in html
    assert "3 articles" in html and "1 article<" in html
    assert 'href="/a/en/reset-password"' in html  # popular articles
    assert "internal-refunds" not in html and "draft-plans" not in html


def test_popular_articles_follow_views(app, client):
    with app.app_context():
        db.session.add_all([Event(kind="view", session_id="s", article_id="ru/download-invoices")
                            for _ in range(3)])
        db.session.commit()
    html = page(client, "/?lang=en")
    popular = html[html.index('id="popular-title"'):]
    assert popular.index("/a/en/download-invoices") < popular.index("/a/en/reset-password")


def test_pages_have_landmarks_skip_link_and_labels(client):
    html = page(client, "/?lang=en")
    assert '<a class="skip-link" href="#main">Skip to content</a>' in html
    assert '<main id="main"' in html and "<header" in html and "<footer" in html
    assert '<label for="q">Search the help center</label>' in html
    assert 'role="search"' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


@pytest.mark.parametrize("page", ["/", "/console/login"])
def test_pages_link_a_favicon_that_is_served(client, page):
    html = client.get(page).get_data(as_text=True)
    links = re.findall(r'<link rel="icon" href="([^"]+)"', html)
    assert "/favicon.ico" in links and any(link.endswith("favicon.svg") for link in links)
    icon = client.get("/favicon.ico")        # what browsers ask for whatever a page links
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00" and icon.cache_control.max_age > 0
    svg = client.get(next(link for link in links if link.endswith(".svg")))
    assert svg.status_code == 200 and b"<svg" in svg.data


def test_ui_language_from_accept_language_param_and_cookie(client):
    html = page(client, "/", headers={"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.5"})
    assert '<html lang="uk">' in html and "Чим ми можемо допомогти?" in html
    assert "Обліковий запис і вхід" in html
    response = client.get("/?lang=ru")
    assert "lz_lang=ru" in response.headers["Set-Cookie"]
    assert "Cookie" in response.headers["Vary"]
    html = page(client, "/c/account", headers={"Accept-Language": "en"})
    assert '<html lang="ru">' in html and "Аккаунт и вход" in html  # the cookie wins
    assert '<html lang="ru">' in page(client, "/?lang=de")  # an unknown ?lang= is ignored


def test_language_switcher_keeps_the_page_and_query(client):
    html = page(client, "/search?q=invoice&lang=en")
    assert 'href="/search?q=invoice&amp;lang=ru" lang="ru"' in html
    assert re.search(r'href="/search\?q=invoice&amp;lang=en"[^>]*aria-current="true"', html)


def test_every_ui_string_exists_in_every_language():
    for key, texts in i18n.STRINGS.items():
        assert set(texts) == set(i18n.LANGUAGES), key
        assert all(text.strip() for text in texts.values()), key
    for key, forms in i18n.PLURALS.items():
        assert [len(forms[lang]) for lang in i18n.LANGUAGES] == [2, 3, 3], key


@pytest.mark.parametrize("n, russian, ukrainian", [
    (1, "1 результат", "1 результат"), (3, "3 результата", "3 результати"),
    (5, "5 результатов", "5 результатів"), (11, "11 результатов", "11 результатів"),
    (22, "22 результата", "22 результати"), (101, "101 результат", "101 результат"),
])
def test_plural_forms(app, n, russian, ukrainian):
    for lang, expected in (("ru", russian), ("uk", ukrainian)):
        with app.test_request_context(f"/?lang={lang}"):
            assert i18n.plural("results", n) == expected


# --- category and article pages --------------------------------------------------------------
def test_category_page_lists_one_version_per_article(client):
    html = page(client, "/c/account?lang=ru")
    assert "<h1>Аккаунт и вход</h1>" in html
    assert html.count("reset-password") == 1
    assert 'href="/a/ru/reset-password">Как сбросить пароль</a>' in html
    assert 'href="/a/uk/delete-account">Як видалити обліковий запис</a>' in html
    assert 'href="/a/en/two-factor"' in html


def test_article_page_shows_toc_body_translations_related_and_feedback(client):
    html = page(client, "/a/en/reset-password?lang=en")
    assert "<h1>Reset your password</h1>" in html
    assert '<a href="#request-a-reset-link">Request a reset link</a>' in html
    assert '<h2 id="request-a-reset-link">Request a reset link</h2>' in html
    assert "<strong>Forgot password?</strong>" in html
    assert 'href="/a/ru/reset-password"' in html and 'href="/a/uk/reset-password"' in html
    assert re.search(r'id="related-title".*href="/a/en/two-factor"', html, re.S)
    assert 'data-article-id="en/reset-password"' in html
    for reason in ("outdated", "unclear", "not_solved", "other"):
        assert f'name="reason" value="{reason}"' in html
    assert "Updated 2026-10-01" in html


def test_article_in_another_language_than_the_ui_is_marked(client):
    html = page(client, "/a/ru/reset-password?lang=en")
    assert '<html lang="en">' in html
    assert '<article class="article" lang="ru"' in html
    assert "Как сбросить пароль" in html and "On this page" in html


def test_article_page_speaks_the_article_language_unless_the_user_chose_one(client):
    html = page(client, "/a/ru/reset-password", headers={"Accept-Language": "en"})
    assert '<html lang="ru">' in html
    assert "На этой странице" in html and '<a href="/">Справочный центр</a>' in html
    related = html[html.index('id="related-title"'):]
    assert "Русский</span>" not in related and 'lang="ru">Русский' not in related
    client.set_cookie("lz_lang", "en")
    assert "On this page" in page(client, "/a/ru/reset-password")


def test_results_page_speaks_the_query_language_unless_the_user_chose_one(client):
    html = page(client, "/search?q=сбросить+пароль", headers={"Accept-Language": "en"})
    assert '<html lang="ru">' in html and "Результаты по запросу «сбросить пароль»" in html
    first = html[html.index('class="hits"'):]
    assert first.index('href="/a/ru/reset-password') < first.index("</li>")
    assert "<mark>пароль</mark>" in html
    chosen = page(client, "/search?q=сбросить+пароль&lang=en")
    assert '<html lang="en">' in chosen and 'href="/a/en/reset-password' in chosen
    assert "Results for" in page(client, "/search?q=invoice", headers={"Accept-Language": "ru"})


@pytest.mark.parametrize("url", [
    "/a/en/no-such-article", "/a/en/internal-refunds", "/a/en/draft-plans", "/a/de/reset-password",
    "/c/no-such-category", "/c/general",
])
def test_unknown_or_hidden_pages_are_html_404(client, url):
    html = page(client, url + "?lang=en", status=404)
    assert "<h1>Page not found</h1>" in html
    assert "Refund policy" not in html and "Draft text" not in html


@pytest.mark.parametrize("url", ["/no-such-page", "/a", "/files/en/none.png"])
def test_an_unknown_url_is_the_help_centers_404_page(client, url):
    html = page(client, url + "?lang=ru", status=404)
    assert "<h1>Страница не найдена</h1>" in html and 'href="/"' in html


def test_an_unknown_console_url_is_the_consoles_404_page(app):
    from authoring_helpers import staff_client
    client = staff_client(app, "agent")
    response = client.get("/console/tickets/LZ-000007?lang=uk")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "Такої сторінки немає." in html
    assert 'href="/console/"' in html and "console.css" in html       # the console's own page
    api = client.get("/api/v1/no-such-endpoint")
    assert api.status_code == 404 and api.get_json()["status"] == 404


def test_script_in_article_or_query_never_reaches_the_page(app, client, articles_dir):
    (articles_dir / "en" / "scripted.md").write_text(XSS_ARTICLE, encoding="utf-8")
    with app.app_context():
        search.reindex()
    html = page(client, "/a/en/scripted?lang=en")
    assert "Trampoline words" in html
    assert "<script>alert" not in html and "onerror" not in html and "javascript:" not in html
    results = page(client, "/search?lang=en&q=trampoline")
    assert 'href="/a/en/scripted"' in results
    assert "<mark>Trampoline</mark>" in results
    assert "<script>alert" not in results
    query = '"><script>alert(1)</script>'
    for url in ("/search", "/contact"):
        html = page(client, url, query_string={"q": query, "lang": "en"})
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- search results page ---------------------------------------------------------------------
def test_search_page_shows_hits_with_highlights_facets_and_contact_link(client):
    html = page(client, "/search?q=reset+password&lang=en")
    assert "Results for “reset password”" in html
    assert '<a href="/a/en/reset-password"' in html         # the title's words: the top of it
    assert '<p class="hit-section">' not in html
    assert "<mark>password</mark>" in html
    assert 'href="/search?q=reset+password&amp;category=account">Account and sign-in' in html
    assert 'href="/search?q=reset+password&amp;language=ru">Русский' in html
    assert 'href="/contact?q=reset+password"' in html
    assert 'data-ids="[&#34;en/reset-password&#34;, &#34;en/two-factor&#34;]"' in html
    assert "2 results" in html


def test_search_page_uses_the_ui_language_and_filters(client):
    html = page(client, "/search?q=password&lang=uk")
    assert 'href="/a/uk/reset-password' in html and 'href="/a/en/reset-password' not in html
    filtered = page(client, "/search?q=password&lang=en&language=ru")
    assert 'href="/a/ru/reset-password' in filtered and "two-factor" not in filtered.split('id="results"')[1]
    assert "<summary>Filters: Русский</summary>" in filtered          # what the folded filters hold
    by_category = page(client, "/search?q=invoice&lang=en&category=account")
    assert "Nothing found for “invoice”. Try other words or fewer filters." in by_category
    unfiltered = page(client, "/search?q=qwzxvpl+frobnicate&lang=en")
    assert "Try other words." in unfiltered and "fewer filters" not in unfiltered


def test_search_page_did_you_mean(client):
    html = page(client, "/search?q=пороль&lang=ru")
    assert 'Возможно, вы имели в виду <a href="/search?q=%D0%BF%D0%B0%D1%80%D0%BE%D0%BB%D1%8C">пароль</a>' in html


def test_search_page_says_which_correction_its_results_answer(client, monkeypatch):
    from indexer.search import SearchResults
    from kb_server.views import public as views
    answered = SearchResults(query="пороль", language="ru", mode="hybrid", total=0, page=1,
                             per_page=10, showing="пароль")
    monkeypatch.setattr(views.search, "search", lambda query, **options: answered)
    html = page(client, "/search?q=пороль&lang=ru")
    assert "Показаны результаты по запросу <strong>пароль</strong>" in html


def test_search_page_paginates(client, monkeypatch):
    monkeypatch.setattr(public, "PER_PAGE", 1)
    first = page(client, "/search?q=password&lang=en")
    assert "Page 1 of 2" in first and 'href="/search?q=password&amp;page=2" rel="next"' in first
    second = page(client, "/search?q=password&lang=en&page=2")
    assert "Page 2 of 2" in second and 'href="/search?q=password" rel="prev"' in second
    assert first.split('class="hits"')[1][:300] != second.split('class="hits"')[1][:300]


@pytest.mark.parametrize("url", [
    "/search", "/search?q=", "/search?q=x&page=abc&category=zzz&language=de",
    "/search?q=" + "x" * 600, "/search?q=%22((",
])
def test_search_page_tolerates_odd_parameters(client, url):
    html = page(client, url + "&lang=en" if "?" in url else url + "?lang=en")
    assert '<form class="search-form' in html
    if len(url) > 500:
        assert "The query is too long" in html


def test_contact_support_is_offered_once_and_never_by_the_contact_page_itself(client):
    results = page(client, "/search?q=reset+password&lang=en")
    assert results.count("find an answer?") == 1
    assert 'href="/contact?q=reset+password"' in results
    assert "find an answer?" in page(client, "/search?q=&lang=en")     # no results: the footer
    contact = page(client, "/contact?q=refund&lang=en")
    assert "find an answer?" not in contact
    assert not re.findall(r'href="/contact[^"]*"(?! lang=)', contact)       # but to switch language


def test_contact_page_keeps_the_query_as_context_not_as_the_message(client):
    html = page(client, "/contact?q=refund+please&lang=en")
    assert '<textarea id="contact-message" name="message" rows="6" required maxlength="5000"></textarea>' in html
    assert '<input type="hidden" name="query" value="refund please">' in html
    assert '<label for="contact-email">Your email</label>' in html
