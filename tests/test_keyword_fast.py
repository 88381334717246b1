"""Fast keyword ranking (indexer/postings.py through indexer/keyword.py): numpy postings give
Whoosh's BM25F scores, are cached per segment, serve concurrent searches; spelling; snippets."""
from __future__ import annotations

import random
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from whoosh import query, scoring

import indexer.postings as postings_module
from indexer import keyword
from indexer.generation import current_generation
from indexer.index import build_index
from indexer.keyword import LAYOUT, SNIPPET_CHARS, snippet
from indexer.postings import CACHE_EXTENSION, Speller, levenshtein
from indexer.search import SearchService
from search_helpers import build_service, copy_fixture_kb, ids, write_article

QUERIES = [
    ("password", None), ("reset password link expired", None), ("pasword resett", None),
    ("invioce", None), ("как сбросить пароль", None), ("облікового запису", None),
    ("widget colors", "en"), ("2fa", None), ("refund", None), ("счета invoices", "ru"),
]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """The fixture KB plus 150 articles (posting lists span several Whoosh blocks), then
    incremental updates: three segments, deleted documents in the first."""
    root = tmp_path_factory.mktemp("kb")
    kb = copy_fixture_kb(root / "articles")
    with (kb / "categories.yml").open("a", encoding="utf-8") as categories:
        categories.write("widget:\n  order: 3\n  en: Widget\n")    # (an article's category is one of these)
    for n in range(150):
        write_article(kb, "en", f"widget-{n:03d}", f"Widget guide {n}",
                      f"Change the widget colors and reset the password, part {n}. " * (1 + n % 4),
                      category="billing" if n % 3 else "account")
    build_index(kb, root / "index")
    write_article(kb, "en", "reset-password", "Reset a forgotten password",
                  "Open the sign-in page and choose reset password. The link expires in an hour.",
                  category="account")
    write_article(kb, "en", "widget-colors", "Widget colors", "Change the widget colors on the page.",
                  category="widget")
    build_index(kb, root / "index")
    write_article(kb, "ru", "widget-colors", "Цвета виджета", "Измените цвета виджета и пароль.",
                  category="widget", translation_key="widget-colors")
    build_index(kb, root / "index")
    return SearchService(root / "index")


def whoosh_ranking(ranker, boosts, limit, categories=()):
    """The reference: the same query as a Whoosh Or of boosted terms, scored by Whoosh's BM25F."""
    weights = ranker.weights
    weighting = scoring.BM25F(B=weights.b, K1=weights.k1,
                              **{f"{f}_B": weights.bm25_b(f) for f in LAYOUT.scored})
    restrict = [query.Term("public", "1")]
    if categories:
        restrict.append(query.Or([query.Term("category", c) for c in categories]))
    q = query.Or([query.Term(f, t, boost=b) for (f, t), b in boosts.items()])
    with ranker.index.searcher(weighting=weighting) as searcher:
        hits = searcher.search(q, limit=limit, filter=query.And(restrict))
        return [(hit["key"], hit.score) for hit in hits]


def assert_same_ranking(got, expected):
    assert dict(got) == pytest.approx(dict(expected), rel=1e-9)
    scores = [score for _, score in got]
    assert scores == sorted(scores, reverse=True)


# --- same scores as Whoosh ------------------------------------------------------------------------
def test_index_has_segments_deletions_and_long_posting_lists(service):
    reader = service.keyword.searcher.reader()
    assert len(reader.leaf_readers()) == 3 and reader.has_deletions()
    assert reader.doc_frequency("body_en", "widget") > 128       # Whoosh's block size


@pytest.mark.parametrize("text, language, categories", [
    ("password", "en", ()), ("reset password link expired", "en", ()), ("widget colors", "en", ()),
    ("пароль", "ru", ()), ("цвета виджета", "ru", ()), ("invoice счёт", "ru", ()),
    ("password", "en", ("account",)), ("widget password", "en", ("widget", "billing")),
    ("pasword", "en", ()), ("2fa", "en", ()),
])
def test_scores_are_whoosh_bm25f(service, text, language, categories):
    ranker = service.keyword
    boosts = ranker.parse(text, language).query
    assert_same_ranking(ranker.rank(boosts, 1000, categories),
                        whoosh_ranking(ranker, boosts, 1000, categories))


@pytest.mark.parametrize("text", ["pass", "wid", "reset pa", "цве", "invoices do"])
def test_completion_scores_are_whoosh_bm25f(service, text):
    ranker = service.keyword
    boosts = ranker.completion_query(text, "en")
    assert any(field == "complete" for field, _ in boosts)
    assert_same_ranking(ranker.rank(boosts, 1000), whoosh_ranking(ranker, boosts, 1000))


def test_limit_keeps_the_best_and_breaks_ties_the_same_way(service):
    ranker = service.keyword
    boosts = ranker.parse("password widget colors", "en").query
    everything = ranker.rank(boosts, 1000)
    assert len({score for _, score in everything[:20]}) < 20              # ties among the best
    for limit in (1, 3, 10, 20):
        assert ranker.rank(boosts, limit) == everything[:limit]
    assert ranker.rank(None, 10) == ranker.rank({}, 10) == []


def test_scores_add_up_term_by_term_exactly(service):
    """One bincount over the query's postings gives, bit for bit, the sum built term by term in
    the query's order (so rankings and ties do not move)."""
    postings = service.keyword.postings
    boosts = service.keyword.parse("reset password widget colors пароль", "en").query
    expected = np.zeros(postings.size)
    for (field, term), boost in boosts.items():
        scored = postings.fields[field]
        row = scored.rows.get(term)
        if row is not None:
            start, end = scored.postings.starts[row], scored.postings.starts[row + 1]
            expected[scored.postings.docs[start:end]] += boost * scored.postings.values[start:end]
    assert np.count_nonzero(expected) > 100
    assert np.array_equal(postings.scores(boosts), expected)
    assert not postings.scores({("body_en", "nosuchword"): 1.0}).any()


def test_updated_article_replaces_the_old_one(service):
    assert ids(service.search("forgotten"))[0] == "en/reset-password"
    assert "en/widget-colors" in ids(service.search("widget colors"))
    assert ids(service.search("цвета", language="ru"))[0] == "ru/widget-colors"
    assert ids(service.suggest("wid"))[0] in ("en/widget-colors", "ru/widget-colors")


# --- the per-segment cache ------------------------------------------------------------------------
def cache_files(service):
    return sorted(current_generation(service.index_dir).whoosh.glob(f"*{CACHE_EXTENSION}"))


def test_each_segment_is_cached_and_reopening_reads_the_cache(service, monkeypatch):
    assert len(cache_files(service)) == 3
    expected = service.keyword.rank(service.keyword.parse("password", "en").query, 100)

    def no_whoosh_reading(reader, layout):
        raise AssertionError("read from Whoosh although cached")
    monkeypatch.setattr(postings_module, "_segment_arrays", no_whoosh_reading)
    reopened = keyword.KeywordRanker(service.keyword.index)
    assert reopened.rank(reopened.parse("password", "en").query, 100) == expected


def test_broken_or_stale_cache_is_rebuilt(tmp_path):
    service = build_service(copy_fixture_kb(tmp_path / "articles"), tmp_path / "index")
    [cache] = cache_files(service)
    expected = service.search("password").to_dict()
    cache.write_bytes(b"not a zip file")
    assert SearchService(tmp_path / "index").search("password").to_dict() == expected
    arrays = dict(np.load(cache))
    np.savez(cache, **{**arrays, "version": np.array(0)})
    assert SearchService(tmp_path / "index").search("password").to_dict() == expected
    assert dict(np.load(cache))["version"] == postings_module.CACHE_VERSION


def test_cache_files_go_with_their_segments(tmp_path):
    kb = copy_fixture_kb(tmp_path / "articles")
    service = build_service(kb, tmp_path / "index")
    first = cache_files(service)
    write_article(kb, "en", "extra", "Extra article", "More words.")
    build_index(kb, tmp_path / "index")
    service.reload()
    assert ids(service.search("extra")) == ["en/extra"]
    ix = service.keyword.index
    ix.optimize()                      # merges the segments: Whoosh deletes the old files
    assert not any(path.exists() for path in first)


def test_empty_index(tmp_path):
    (tmp_path / "articles").mkdir()
    service = build_service(tmp_path / "articles", tmp_path / "index")
    assert service.search("password").total == 0 and service.suggest("pa") == []


# --- concurrency ----------------------------------------------------------------------------------
def snapshot(service, text, language):
    """Everything a search and a completion return, comparable between runs."""
    results = service.search(text, language=language)
    suggestions = service.suggest(text[:4], language=language)
    return (results.to_dict(), [hit.to_dict() for hit in suggestions])


def test_concurrent_searches_match_serial_results(service):
    expected = {(q, lang): snapshot(service, q, lang) for q, lang in QUERIES}
    work = [item for _ in range(20) for item in QUERIES]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)          # switch threads as often as possible: races show up
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            got = list(pool.map(lambda item: (item, snapshot(service, *item)), work))
    finally:
        sys.setswitchinterval(interval)
    for item, result in got:
        assert result == expected[item], item


# --- spelling -------------------------------------------------------------------------------------
def reference_distance(a: str, b: str) -> int:
    """The textbook optimal string alignment distance (Levenshtein + adjacent swaps)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def test_levenshtein_matches_the_textbook_algorithm():
    rng = random.Random(7)
    candidates = ["".join(rng.choice("abcé") for _ in range(rng.randint(0, 9))) for _ in range(300)]
    speller = Speller(sorted(candidates), np.ones(len(candidates)))
    for word in ["", "a", "abc", "cabbage", "ééab", "bacabcab", "bcaacb"]:
        got = levenshtein(word, speller.codes, speller.lengths)
        assert got.tolist() == [reference_distance(word, c) for c in speller.words], word


def test_a_swap_of_adjacent_letters_is_one_edit():
    speller = Speller(["receive", "refund", "reform"], np.array([1.0, 1.0, 1.0]))
    assert speller.suggest("refnud", 1) == "refund"
    assert speller.suggest("recieve", 1) == "receive"


def test_speller_prefers_the_closest_then_the_most_frequent_word():
    speller = Speller(["paper", "passport", "password", "pastword", "possword"], np.array([9, 1, 5, 2, 50.0]))
    assert speller.suggest("pasword", 1) == "password"       # pastword is as close, rarer
    assert speller.suggest("pasword", 2) == "password"       # possword is more frequent, farther
    assert speller.suggest("paswrd", 2) == "password"        # 2 edits from both: the more frequent
    assert speller.suggest("asword", 2) is None              # the first letter must match
    assert speller.suggest("pxxxxxxx", 2) is None
    assert speller.suggest("p" * 40, 2) is None


# --- snippets -------------------------------------------------------------------------------------
def test_snippet_shows_the_densest_window():
    text = ("Intro about billing. " * 20 + "To reset your password open the reset page. "
            + "Unrelated words follow here. " * 20)
    out = snippet(text, {"reset", "password"}, "en")
    assert out.startswith("… ") and out.endswith(" …")
    assert out.count("<mark>") == 3 and "<mark>password</mark>" in out
    plain = out.replace("<mark>", "").replace("</mark>", "")
    assert len(plain) <= SNIPPET_CHARS + 4


def test_snippet_marks_inflected_forms_and_escapes():
    out = snippet('Passwords <b>expired</b> & "reset" links', {"password", "expir", "link"}, "en")
    # quotes need no escaping in HTML text (the sanitizer used to turn &quot; back into ")
    assert out == ('<mark>Passwords</mark> &lt;b&gt;<mark>expired</mark>&lt;/b&gt; &amp; '
                   '"reset" <mark>links</mark>')
    assert snippet("Пароли и пароль", {"парол"}, "ru") == "<mark>Пароли</mark> и <mark>пароль</mark>"


def test_snippet_prefers_more_distinct_terms_to_more_matches():
    text = "reset " * 30 + "filler text " * 30 + "reset your password here. " + "tail words " * 30
    out = snippet(text, {"reset", "password"}, "en")
    assert "<mark>reset</mark> your <mark>password</mark>" in out


def test_refresh_serves_the_latest_commit(tmp_path):
    kb = copy_fixture_kb(tmp_path / "articles")
    service = build_service(kb, tmp_path / "index")
    ranker = service.keyword
    write_article(kb, "en", "extra", "Extra article", "Zebraquill words.")
    build_index(kb, tmp_path / "index")
    assert ranker.rank(ranker.parse("zebraquill", "en").query, 10) == []
    ranker.refresh()
    assert [key for key, _ in ranker.rank(ranker.parse("zebraquill", "en").query, 10)] == ["en/extra#0"]
