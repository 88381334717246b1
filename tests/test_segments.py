"""Full builds in worker processes (indexer/segments.py): the same index as one process builds,
and a crash in a worker leaves the previous generation serving."""
from __future__ import annotations

import multiprocessing

import pytest
from whoosh import index as whoosh_index

import indexer.keyword as keyword
import indexer.segments as segments
from indexer.generation import current_generation
from indexer.index import build_index
from indexer.search import SearchService
from search_helpers import ids, write_article

QUERIES = [("password", "en"), ("reset password link", "en"), ("invoice download", "en"),
           ("widget colours", "en"), ("пароль", "ru"), ("счета", "ru"), ("пароль", "uk"),
           ("pasword", "en")]


@pytest.fixture
def big_kb(kb):
    """The fixture KB plus articles in every language, enough for several chunks."""
    for n in range(24):
        lang = ("en", "ru", "uk")[n % 3]
        write_article(kb, lang, f"guide-{n:02d}", f"Widget guide {n} пароль",
                      f"Reset the password of widget {n}.\n\n## Colours\n\nChange the colours "
                      f"and download the invoice, part {n}. Счета и пароли {n}.\n" * (1 + n % 3),
                      category="billing" if n % 2 else "account", tags=["widget", f"tag{n % 5}"])
    return kb


def build(kb, index_dir, chunk_articles, monkeypatch):
    monkeypatch.setattr(segments, "CHUNK_ARTICLES", chunk_articles)
    report = build_index(kb, index_dir, full=True)
    assert not report.errors
    return current_generation(index_dir)


def rankings(index_dir):
    """Every query's hits with their exact scores, and each section ranked with its score."""
    service = SearchService(index_dir)
    ranked = {}
    for text, lang in QUERIES:
        parsed = service.keyword.parse(text, lang)
        ranked[text, lang] = (service.keyword.rank(parsed.query, 100),
                              [(h.id, h.anchor, h.snippet, h.score) for h in service.search(text, language=lang).hits])
    return ranked, service.keyword.postings.keys


def test_chunks_are_built_in_workers_as_one_process_would(big_kb, tmp_path, monkeypatch):
    serial = build(big_kb, tmp_path / "serial", 10_000, monkeypatch)
    parallel = build(big_kb, tmp_path / "parallel", 7, monkeypatch)
    assert len(whoosh_index.open_dir(serial.whoosh).reader().leaf_readers()) == 1
    assert len(whoosh_index.open_dir(parallel.whoosh).reader().leaf_readers()) == 5   # 33 articles
    assert parallel.catalog.read_bytes() == serial.catalog.read_bytes()
    assert parallel.manifest.read_bytes() == serial.manifest.read_bytes()
    # the same document numbers, statistics and scores (not merely the same order)
    assert rankings(tmp_path / "parallel") == rankings(tmp_path / "serial")


def test_an_incremental_update_after_a_parallel_build(big_kb, index_dir, monkeypatch):
    build(big_kb, index_dir, 7, monkeypatch)
    write_article(big_kb, "en", "guide-03", "Widget guide three", "The zebrafish setting is new.")
    report = build_index(big_kb, index_dir)
    assert report.updated == ["en/guide-03"] and not report.full
    assert ids(SearchService(index_dir).search("zebrafish", language="en")) == ["en/guide-03"]


def segment_ids(generation):
    return [r.segment().segment_id() for r, _ in whoosh_index.open_dir(generation.whoosh).reader().leaf_readers()]


def test_an_update_never_rewrites_the_full_builds_segments(big_kb, index_dir, monkeypatch):
    """Whoosh's MERGE_SMALL would merge every one of these equal segments (and a 10,000-article
    build's twenty) on the first update."""
    monkeypatch.setattr(segments, "KEEP_SEGMENT_DOCS", 4)
    built = segment_ids(build(big_kb, index_dir, 2, monkeypatch))   # 17 segments
    write_article(big_kb, "en", "guide-03", "Widget guide three", "The zebrafish setting is new.")
    build_index(big_kb, index_dir)
    after = segment_ids(current_generation(index_dir))
    assert set(built) < set(after) and len(after) == len(built) + 1
    assert ids(SearchService(index_dir).search("zebrafish", language="en")) == ["en/guide-03"]
    monkeypatch.setattr(segments, "KEEP_SEGMENT_DOCS", 1000)   # all small: Whoosh's policy
    write_article(big_kb, "en", "guide-06", "Widget guide six", "The quokka setting is new.")
    build_index(big_kb, index_dir)
    assert len(segment_ids(current_generation(index_dir))) < len(after)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                    reason="the failure is planted in this process; workers must be forked")
def test_crash_in_a_worker_keeps_previous_generation(big_kb, index_dir, monkeypatch):
    monkeypatch.setattr(segments, "_start_method", lambda: "fork")   # even if threads run
    first = build(big_kb, index_dir, 7, monkeypatch)
    original = keyword.add_article

    def flaky(writer, article):
        if article.id == "uk/guide-20":
            raise RuntimeError("crash while indexing")
        original(writer, article)
    monkeypatch.setattr(keyword, "add_article", flaky)
    write_article(big_kb, "en", "sso", "Single sign-on with SAML", "Connect Okta.")
    with pytest.raises(RuntimeError, match="crash while indexing"):
        build_index(big_kb, index_dir, full=True)
    assert current_generation(index_dir) == first
    assert sorted(p.name for p in index_dir.glob("gen-*")) == [first.name]
    assert SearchService(index_dir).search("okta").total == 0
