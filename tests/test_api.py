"""The read API under /api/v1: search, suggest, article, categories, page suggestions, health."""
from __future__ import annotations

import pytest

from kb_server.extensions import db
from kb_server.models import Site


def get_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    return response.get_json()


@pytest.fixture
def billing_site(app):
    """A widget site that shows only the billing category."""
    with app.app_context():
        db.session.add(Site(key="shop", name="Shop", origins=["https://shop.example"],
                            default_language="ru", categories=["billing"]))
        db.session.commit()
    return "shop"


# --- search ----------------------------------------------------------------------------------
def test_search_finds_the_reset_password_article_at_its_best_section(client):
    data = get_json(client, "/api/v1/search?q=request+a+reset+link&lang=en")
    first = data["hits"][0]
    assert first["id"] == "en/reset-password"
    assert first["section"] == "Request a reset link"
    assert first["section_html"] == "<mark>Request</mark> a <mark>reset</mark> <mark>link</mark>"
    assert first["url"] == "http://localhost/a/en/reset-password#request-a-reset-link"
    assert "<mark>" in first["snippet"]
    assert data["query"] == "request a reset link"
    assert data["language"] == "en"
    # the article's title in other words: the whole article answers it, from the top
    first = get_json(client, "/api/v1/search?q=reset+password&lang=en")["hits"][0]
    assert (first["url"], first["section"]) == ("http://localhost/a/en/reset-password", "")


def test_search_corrects_a_russian_typo(client):
    data = get_json(client, "/api/v1/search?q=пороль")
    assert data["hits"][0]["id"] == "ru/reset-password"
    assert data["did_you_mean"] == "пароль"


def test_search_shows_one_result_per_translation_in_the_users_language(client):
    for lang in ("en", "ru", "uk"):
        data = get_json(client, f"/api/v1/search?q=reset+password&lang={lang}")
        versions = [h["id"] for h in data["hits"] if h["translation_key"] == "reset-password"]
        assert versions == [f"{lang}/reset-password"]


def test_search_facets_count_categories_and_languages(client):
    data = get_json(client, "/api/v1/search?q=password&lang=en")
    assert data["facets"]["category"] == {"account": 2}
    assert data["facets"]["language"] == {"en": 2, "ru": 1, "uk": 1}


def test_search_filters_by_category_and_language(client):
    assert get_json(client, "/api/v1/search?q=invoice&category=account")["hits"] == []
    billing = get_json(client, "/api/v1/search?q=invoice&category=billing")
    assert [h["id"] for h in billing["hits"]] == ["en/download-invoices"]
    ukrainian = get_json(client, "/api/v1/search?q=password&lang=en&language=uk")
    assert [h["id"] for h in ukrainian["hits"]] == ["uk/reset-password"]
    both = get_json(client, "/api/v1/search?q=password&lang=en&category=account,billing")
    assert len(both["hits"]) == 2


def test_search_paginates(client):
    page1 = get_json(client, "/api/v1/search?q=password&lang=en&per_page=1")
    page2 = get_json(client, "/api/v1/search?q=password&lang=en&per_page=1&page=2")
    page3 = get_json(client, "/api/v1/search?q=password&lang=en&per_page=1&page=3")
    assert page1["total"] == page2["total"] == 2
    assert (page1["page"], page2["page"]) == (1, 2)
    assert page1["hits"][0]["id"] != page2["hits"][0]["id"]
    assert page3["hits"] == []


def test_search_never_returns_internal_or_draft_articles(client):
    for query in ("refund agents", "draft plans", "upcoming plans"):
        ids = [h["id"] for h in get_json(client, f"/api/v1/search?q={query}")["hits"]]
        assert "en/internal-refunds" not in ids and "en/draft-plans" not in ids


@pytest.mark.parametrize("query", ['"', "*", "AND OR NOT", "(((", "title:x", "🙂", "a" * 500])
def test_search_survives_odd_queries(client, query):
    response = client.get("/api/v1/search", query_string={"q": query})
    assert response.status_code == 200
    assert isinstance(response.get_json()["hits"], list)


def test_a_nul_byte_in_a_query_parameter_is_a_400(client):
    response = client.get("/api/v1/search", query_string={"q": "pass\u0000word"})
    assert response.status_code == 400 and "NUL" in response.get_json()["error"]


@pytest.mark.parametrize("url, message", [
    ("/api/v1/search", "'q' is required"),
    ("/api/v1/search?q=%20%20", "'q' is required"),
    ("/api/v1/search?q=" + "a" * 501, "longer than 500"),
    ("/api/v1/search?q=x&page=abc", "'page' must be an integer"),
    ("/api/v1/search?q=x&page=0", "'page' must be between"),
    ("/api/v1/search?q=x&per_page=1000", "'per_page' must be between"),
    ("/api/v1/search?q=x&lang=de", "'lang' must be one of"),
    ("/api/v1/search?q=x&language=de", "unknown language"),
    ("/api/v1/search?q=x&category=nope", "unknown category"),
    ("/api/v1/search?q=x&mode=fuzzy", "'mode' must be one of"),
    ("/api/v1/suggest", "'q' is required"),
    ("/api/v1/suggest?q=pass&limit=99", "'limit' must be between"),
    ("/api/v1/categories?lang=xx", "'lang' must be one of"),
    ("/api/v1/pages/suggestions", "'path' is required"),
    ("/api/v1/pages/suggestions?path=login", "must be a URL path"),
])
def test_malformed_parameters_are_400_json(client, url, message):
    data = get_json(client, url, status=400)
    assert data["status"] == 400
    assert message in data["error"]


@pytest.mark.parametrize("url", [
    "/api/v1/search?q=x&site=nope", "/api/v1/suggest?q=x&site=nope",
    "/api/v1/articles/en/reset-password?site=nope", "/api/v1/categories?site=nope",
    "/api/v1/pages/suggestions?path=/login&site=nope",
])
def test_unknown_site_is_404_json(client, url):
    assert "unknown site" in get_json(client, url, status=404)["error"]


def test_site_restricts_categories(client, billing_site):
    search = get_json(client, f"/api/v1/search?q=password&site={billing_site}")
    assert search["hits"] == []
    invoices = get_json(client, f"/api/v1/search?q=invoice&site={billing_site}")
    assert [h["id"] for h in invoices["hits"]] == ["en/download-invoices"]
    assert "unknown category" in get_json(
        client, f"/api/v1/search?q=x&category=account&site={billing_site}", status=400)["error"]
    get_json(client, f"/api/v1/articles/en/reset-password?site={billing_site}", status=404)
    assert get_json(client, f"/api/v1/suggest?q=pass&site={billing_site}")["suggestions"] == []
    categories = get_json(client, f"/api/v1/categories?site={billing_site}")
    assert categories["language"] == "ru"  # the site's default language
    assert [(c["id"], c["name"]) for c in categories["categories"]] == [("billing", "Оплата")]
    pages = get_json(client, f"/api/v1/pages/suggestions?path=/login&site={billing_site}")
    assert pages["articles"] == []


# --- article ---------------------------------------------------------------------------------
def test_article_payload_with_translations_and_related(client):
    data = get_json(client, "/api/v1/articles/en/reset-password")
    assert data["id"] == "en/reset-password"
    assert data["title"] == "Reset your password"
    assert '<h2 id="request-a-reset-link">Request a reset link</h2>' in data["html"]
    assert [e["anchor"] for e in data["toc"]] == ["request-a-reset-link", "the-link-has-expired"]
    assert data["translations"] == ["ru", "uk"]
    assert data["url"] == "http://localhost/a/en/reset-password"
    related = {a["id"]: a for a in data["related"]}
    # Same category; delete-account exists only in Ukrainian; billing articles are unrelated.
    assert set(related) == {"en/two-factor", "uk/delete-account"}
    assert related["en/two-factor"]["url"] == "http://localhost/a/en/two-factor"


def test_related_articles_prefer_the_articles_language(client):
    data = get_json(client, "/api/v1/articles/ru/reset-password")
    assert {a["id"] for a in data["related"]} == {"en/two-factor", "uk/delete-account"}
    data = get_json(client, "/api/v1/articles/ru/download-invoices")
    assert data["related"] == []  # the other billing articles are internal or drafts


@pytest.mark.parametrize("url", [
    "/api/v1/articles/en/no-such-article", "/api/v1/articles/de/reset-password",
    "/api/v1/articles/en/internal-refunds", "/api/v1/articles/en/draft-plans",
    "/api/v1/articles/uk/download-invoices",
])
def test_missing_or_non_public_articles_are_404_json(client, url):
    assert get_json(client, url, status=404)["error"] == "article not found"


# --- suggest, categories, page suggestions, health -------------------------------------------
def test_suggest_completes_a_prefix(client):
    data = get_json(client, "/api/v1/suggest?q=pass&lang=en")
    assert data["suggestions"][0]["id"] == "en/reset-password"
    assert data["suggestions"][0]["url"].endswith("/a/en/reset-password")
    assert len(get_json(client, "/api/v1/suggest?q=pass&limit=1")["suggestions"]) <= 1


def test_categories_are_localized_with_counts(client):
    data = get_json(client, "/api/v1/categories?lang=ru")
    assert data["language"] == "ru"
    assert [(c["id"], c["name"], c["count"]) for c in data["categories"]] == [
        ("account", "Аккаунт и вход", 3), ("billing", "Оплата", 1)]
    assert data["categories"][0]["url"] == "http://localhost/c/account"
    assert get_json(client, "/api/v1/categories")["categories"][0]["name"] == "Account and sign-in"


def test_page_suggestions_match_front_matter_urls(client):
    data = get_json(client, "/api/v1/pages/suggestions?path=/login")
    assert [a["id"] for a in data["articles"]] == ["en/reset-password"]
    russian = get_json(client, "/api/v1/pages/suggestions?path=/login?next=/home&lang=ru")
    assert russian["path"] == "/login"
    assert [a["id"] for a in russian["articles"]] == ["ru/reset-password"]
    billing = get_json(client, "/api/v1/pages/suggestions?path=/billing/plans")
    assert [a["id"] for a in billing["articles"]] == ["en/download-invoices"]
    assert get_json(client, "/api/v1/pages/suggestions?path=/nowhere")["articles"] == []


def test_health(client):
    data = get_json(client, "/api/v1/health")
    assert data["ok"] is True
    assert data["search"]["keyword"] == "ok"
    assert data["search"]["articles"] == 9
