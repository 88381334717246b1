"""SearchService (indexer/search.py) and Catalog (indexer/catalog.py): results people see."""
from __future__ import annotations

import pytest

from indexer.catalog import Catalog
from indexer.index import build_index
from indexer.search import SearchUnavailable, SearchService
from search_helpers import build_service, copy_fixture_kb, ids, write_article


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """Twelve public widget articles (+ one draft, one internal) for paging."""
    root = tmp_path_factory.mktemp("many")
    kb = root / "articles"
    for n in range(12):
        write_article(kb, "en", f"widget-{n:02d}", f"Widget topic {n}", f"All about the widget, part {n}.",
                      category="widget" if n % 2 else "general")
    write_article(kb, "en", "widget-draft", "Widget draft", "Widget widget widget.", status="draft")
    write_article(kb, "en", "widget-internal", "Widget internal", "Widget widget.", visibility="internal")
    return build_service(kb, root / "index")


# --- one result per translation ------------------------------------------------------------------
def test_one_result_per_translation(service):
    for query in ("password", "пароль", "reset password пароль скинути", "invoice счёт"):
        results = service.search(query)
        keys = [h.translation_key for h in results.hits]
        assert len(keys) == len(set(keys)), (query, ids(results))
        assert results.total == len(results.hits)


@pytest.mark.parametrize("query, language, expected", [
    ("пароль", None, "ru/reset-password"),      # detected Russian
    ("пароль", "uk", "uk/reset-password"),      # the UI language decides the version shown
    ("пароль", "en", "en/reset-password"),
    ("password", "ru", "ru/reset-password"),    # matched in English, shown in Russian
    ("password", "uk", "uk/reset-password"),
    ("invoice", "ru", "ru/download-invoices"),
    ("invoice", "uk", "en/download-invoices"),  # no Ukrainian version: English is shown
])
def test_users_language_version_is_shown(service, query, language, expected):
    results = service.search(query, language=language)
    assert results.hits[0].id == expected
    if language:
        assert results.language == language


def test_unknown_language_is_detected(service):
    assert service.search("пароль", language="de").language == "ru"
    assert service.search("пароль", language="").language == "ru"


def test_hit_fields(service):
    hit = service.search("password").hits[0]
    data = hit.to_dict()
    assert set(data) == {"id", "slug", "language", "title", "category", "summary", "translation_key",
                         "anchor", "section", "section_html", "snippet", "score"}
    assert (hit.slug, hit.language, hit.title, hit.category) == \
        ("reset-password", "en", "Reset your password", "account")
    assert hit.summary == "Set a new password when you forgot the old one."
    assert hit.score > 0


def test_results_to_dict(service):
    data = service.search("password").to_dict()
    assert {"query", "language", "mode", "total", "page", "per_page", "hits", "facets",
            "did_you_mean"} <= set(data)
    assert data["mode"] == "keyword"
    assert isinstance(data["hits"][0], dict)


def test_scores_descend(service):
    scores = [h.score for h in service.search("account password reset").hits]
    assert scores == sorted(scores, reverse=True)


# --- facets and filters --------------------------------------------------------------------------
def test_facets(service):
    results = service.search("password")
    assert results.facets["category"] == {"account": 2}
    # every public language version of the matched articles
    assert results.facets["language"] == {"en": 2, "ru": 1, "uk": 1}


def test_facets_count_all_matches_not_one_page(service):
    results = service.search("account password invoice", per_page=1)
    assert len(results.hits) == 1
    assert sum(results.facets["category"].values()) == results.total >= 3


def test_category_filter(service):
    assert service.search("invoice", categories=["account"]).total == 0
    assert ids(service.search("invoice", categories=["billing"])) == ["en/download-invoices"]
    both = service.search("password invoice", categories=["billing", "account"])
    assert {h.category for h in both.hits} == {"billing", "account"}
    assert {h.category for h in service.search("password invoice", categories=["account"]).hits} == {"account"}


def test_language_filter(service):
    assert ids(service.search("пароль", languages=["en"])) == ["en/reset-password"]
    assert ids(service.search("password", languages=["uk"])) == ["uk/reset-password"]
    # two-factor has no Ukrainian version: filtered out
    assert "en/two-factor" not in ids(service.search("password", languages=["uk"]))
    assert "en/two-factor" in ids(service.search("password", languages=["uk", "en"]))


# --- paging --------------------------------------------------------------------------------------
def test_pagination(many):
    pages = [many.search("widget", per_page=5, page=p) for p in (1, 2, 3, 4)]
    assert [len(p.hits) for p in pages] == [5, 5, 2, 0]
    assert all(p.total == 12 for p in pages)
    assert [(p.page, p.per_page) for p in pages] == [(1, 5), (2, 5), (3, 5), (4, 5)]
    seen = [h.id for p in pages for h in p.hits]
    assert len(seen) == len(set(seen)) == 12
    assert ids(many.search("widget", per_page=12)) == seen


def test_pagination_with_category(many):
    results = many.search("widget", categories=["widget"], per_page=4, page=2)
    assert results.total == 6 and len(results.hits) == 2
    assert results.facets["category"] == {"widget": 6}


# --- never shown ---------------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["refund", "refund policy for agents", "agents 30 days",
                                   "draft", "new plans draft", "upcoming plans"])
def test_internal_and_draft_articles_never_returned(service, query):
    results = service.search(query)
    assert "en/internal-refunds" not in ids(results)
    assert "en/draft-plans" not in ids(results)
    assert "internal-refunds" not in results.facets["language"] and results.total == len(results.hits)


def test_drafts_not_counted_or_paged(many):
    results = many.search("widget draft internal", per_page=50)
    assert "en/widget-draft" not in ids(results) and "en/widget-internal" not in ids(results)
    assert results.total == 12


def test_hidden_translation_not_shown(tmp_path):
    kb = tmp_path / "articles"
    write_article(kb, "en", "export", "Export data", "Export everything as CSV.")
    write_article(kb, "ru", "export", "Экспорт данных", "Выгрузка в CSV.", status="draft")
    service = build_service(kb, tmp_path / "index")
    results = service.search("CSV export", language="ru")
    assert ids(results) == ["en/export"]          # the draft Russian version never shows
    assert service.search("экспорт данных", language="ru").total == 0
    assert results.facets["language"] == {"en": 1}


# --- lifecycle -----------------------------------------------------------------------------------
def test_health(service):
    health = service.health()
    assert health["keyword"] == "ok" and health["articles"] == 9 and health["index"].startswith("gen-")
    assert health["mode"] == "keyword"


def test_no_index_yet(tmp_path):
    service = SearchService(tmp_path / "nothing")
    assert not service.has_index()
    with pytest.raises(SearchUnavailable, match="no index"):   # not "no results": nothing to ask
        service.search("password")
    with pytest.raises(SearchUnavailable):
        service.suggest("pass")
    assert service.health()["keyword"] == "no index"


def test_service_notices_first_index_by_itself(tmp_path):
    kb = copy_fixture_kb(tmp_path / "articles")
    service = SearchService(tmp_path / "index")
    build_index(kb, tmp_path / "index")
    assert ids(service.search("password"))[0] == "en/reset-password"


# --- catalog -------------------------------------------------------------------------------------
def test_catalog_lookups(service):
    catalog: Catalog = service.catalog
    assert catalog.get("reset-password", "uk").title == "Як скинути пароль"
    assert catalog.get("missing", "en") is None
    assert set(catalog.translations("reset-password")) == {"en", "ru", "uk"}
    assert catalog.best_version("download-invoices", "uk").id == "en/download-invoices"
    assert catalog.best_version("delete-account", "ru").id == "uk/delete-account"
    assert catalog.best_version("nope", "en") is None
    public_en = [a.id for a in catalog.public("en")]
    assert public_en == ["en/download-invoices", "en/reset-password", "en/two-factor"]
    assert [a.id for a in catalog.public("en", "billing")] == ["en/download-invoices"]


def test_catalog_categories(service):
    catalog = service.catalog
    assert catalog.category_name("account", "ru") == "Аккаунт и вход"
    assert catalog.category_name("billing", "uk") == "Оплата"
    assert catalog.category_name("no-such-thing", "en") == "No such thing"
    assert [(c["id"], c["count"]) for c in catalog.category_list("en")] == [("account", 3), ("billing", 1)]
    assert catalog.category_list("uk")[0]["name"] == "Обліковий запис і вхід"


def test_catalog_for_url(service):
    catalog = service.catalog
    assert [a.id for a in catalog.for_url("/billing/plans", "en")] == ["en/download-invoices"]
    assert [a.id for a in catalog.for_url("/billing/plans", "ru")] == ["ru/download-invoices"]
    assert [a.id for a in catalog.for_url("/login", "uk")] == ["uk/reset-password"]
    assert [a.id for a in catalog.for_url("/settings/security", "en")] == ["en/two-factor"]
    assert catalog.for_url("/nowhere", "en") == []


def test_search_in_flight_survives_a_reload(tmp_path, monkeypatch):
    # A server thread is ranking while `kb index` lands and another request reloads the service:
    # the old searcher must not be closed under the running search (whoosh ReaderClosed -> 500).
    from indexer.keyword import KeywordRanker
    kb = copy_fixture_kb(tmp_path / "articles")
    service = build_service(kb, tmp_path / "index")
    original = KeywordRanker.rank
    reloaded = []

    def rank_while_reindexing(self, q, limit, categories=()):
        if not reloaded:
            reloaded.append(build_index(kb, tmp_path / "index", full=True).generation)
            service.reload()                      # what a concurrent request's _fresh() does
        return original(self, q, limit, categories)
    monkeypatch.setattr(KeywordRanker, "rank", rank_while_reindexing)
    results = service.search("password")
    assert reloaded and results.hits[0].id == "en/reset-password"
    assert service.search("invoice").hits[0].id == "en/download-invoices"
