"""The search service's answer cache (``cache_size``, the ``SEARCH_CACHE_SIZE`` setting): the
same answers as without it, keyed by every argument that changes an answer, and never an
answer from another index generation."""
from __future__ import annotations

import pytest

from indexer.index import build_index
from indexer.keyword import KeywordRanker
from indexer.search import SearchService
from search_helpers import build_service, copy_fixture_kb, ids

BASE = {"language": "en", "categories": (), "languages": (), "page": 1, "per_page": 10,
        "mode": None}
# one argument changed at a time; each gives another answer than BASE for "password invoice"
VARIANTS = [
    {"language": "ru"},
    {"categories": ("billing",)},
    {"languages": ("ru",)},
    {"page": 2, "per_page": 1},
    {"per_page": 1},
]


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """An uncached and a cached service on the same index."""
    root = tmp_path_factory.mktemp("cache")
    plain = build_service(copy_fixture_kb(root / "articles"), root / "index")
    return plain, SearchService(root / "index", cache_size=64)


def test_cached_answers_equal_uncached(services):
    plain, cached = services
    queries = ["password", "пароль", "invoice refund", "2fa", "pasword", "zzzz", ""]
    for query in queries:
        for options in [BASE, *({**BASE, **v} for v in VARIANTS), {**BASE, "mode": "keyword"}]:
            expected = plain.search(query, **options).to_dict()
            assert cached.search(query, **options).to_dict() == expected   # miss
            assert cached.search(query, **options).to_dict() == expected   # hit


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: next(iter(v)))
def test_every_argument_is_part_of_the_key(services, variant):
    plain, cached = services
    base = cached.search("password invoice", **BASE).to_dict()
    changed = cached.search("password invoice", **{**BASE, **variant}).to_dict()
    assert changed != base                      # the variant really changes the answer ...
    assert changed == plain.search("password invoice", **{**BASE, **variant}).to_dict()


def test_a_repeated_search_is_not_ranked_again(services, monkeypatch):
    _, cached = services
    calls = []
    original = KeywordRanker.rank
    monkeypatch.setattr(KeywordRanker, "rank",
                        lambda self, *a, **k: calls.append(a) or original(self, *a, **k))
    first = cached.search("reset my password please", language="en")
    ranked = len(calls)
    again = cached.search("reset my password please", language="en")
    assert ranked > 0 and len(calls) == ranked and again is first
    cached.search("reset my password please", language="en", categories=["account"])
    assert len(calls) > ranked                  # a list argument is keyed by its values


def test_no_cache_by_default(services, monkeypatch):
    plain, _ = services
    assert plain.search("password") is not plain.search("password")


def test_a_new_generation_is_never_answered_from_the_cache(tmp_path):
    kb = copy_fixture_kb(tmp_path / "articles")
    build_index(kb, tmp_path / "index")
    service = SearchService(tmp_path / "index", cache_size=64)
    before = service.search("zebraquill", language="en")
    assert before.total == 0 and service.search("zebraquill", language="en") is before
    page = kb / "en" / "reset-password.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n## Zebraquill\n\nThe zebraquill switch.\n",
                    encoding="utf-8")
    build_index(kb, tmp_path / "index")         # incremental update, served at the next search
    assert ids(service.search("zebraquill", language="en")) == ["en/reset-password"]
    build_index(kb, tmp_path / "index", full=True)
    again = service.search("zebraquill", language="en")
    assert ids(again) == ["en/reset-password"] and again is not before


def test_the_app_caches_as_configured(tmp_path, app):
    from conftest import make_app
    assert app.extensions["search"].cache_size == 1024          # the setting's default
    copy_fixture_kb(tmp_path / "off" / "articles")
    off = make_app(tmp_path / "off", SEARCH_CACHE_SIZE=0)
    assert off.extensions["search"].cache_size == 0
    with off.test_client() as client:
        first = client.get("/api/v1/search?q=password&lang=en").get_json()
    with app.test_client() as client:
        assert client.get("/api/v1/search?q=password&lang=en").get_json() == first
        assert client.get("/api/v1/search?q=password&lang=en").get_json() == first


def test_a_repeated_search_sends_the_same_bytes_with_its_own_host(app, monkeypatch):
    """The app keeps the JSON body of a cached answer per base URL: a repeat is neither
    serialised nor linked again, gives the bytes ``jsonify`` gave, and another host (or script
    root) gets its own URLs; the body goes when the answer leaves the service's cache."""
    import gc

    import flask
    from kb_server.views import api
    path = "/api/v1/search?q=password+invoice&lang=en"
    with app.test_client() as client:
        first = client.get(path)
        assert first.get_json()["hits"] and first.mimetype == "application/json"
        serialised = []
        monkeypatch.setattr(api, "jsonify", lambda payload: serialised.append(1) or flask.jsonify(payload))
        again = client.get(path)
        other = client.get(path, base_url="http://help.example.com/kb")
        assert not serialised[:-1] and len(serialised) == 1       # only the new base was serialised
        assert again.data == first.data and again.mimetype == first.mimetype
        assert other.get_json() == {**first.get_json(), "hits": [
            {**hit, "url": hit["url"].replace("http://localhost/", "http://help.example.com/kb/")}
            for hit in first.get_json()["hits"]]}
        assert client.get(path, base_url="http://help.example.com/kb").data == other.data
        assert len(serialised) == 1
    answers = len(api._BODIES)
    assert answers >= 1
    app.extensions["search"]._cached_search.cache_clear()
    gc.collect()
    assert len(api._BODIES) < answers
