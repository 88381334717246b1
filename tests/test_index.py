"""Building the index (indexer/index.py): incremental by content hash, atomic full rebuilds."""
from __future__ import annotations

import json

import pytest
import yaml
from whoosh import index as whoosh_index

import indexer.generation as generation_module
import indexer.index as index_module
import indexer.keyword as keyword
from indexer.generation import CURRENT, Generation, IndexFolder, current_generation
from indexer.catalog import load_categories
from indexer.index import build_index
from indexer.search import SearchService
from search_helpers import ids, write_article

FIXTURE_IDS = ["en/download-invoices", "en/draft-plans", "en/internal-refunds", "en/reset-password",
               "en/two-factor", "ru/download-invoices", "ru/reset-password", "uk/delete-account",
               "uk/reset-password"]


def generations(index_dir):
    return sorted(p.name for p in index_dir.glob("gen-*"))


def pointer(index_dir):
    return (index_dir / CURRENT).read_text().strip()


def section_docs(generation, article_id):
    """How many Whoosh documents (sections) the index holds for one article."""
    ix = whoosh_index.open_dir(generation.whoosh)
    with ix.searcher() as searcher:
        return len(list(searcher.document_numbers(article_id=article_id)))


def record_adds(monkeypatch):
    added = []
    original = keyword.add_article

    def recording(writer, article):
        added.append(article.id)
        original(writer, article)
    monkeypatch.setattr(keyword, "add_article", recording)
    return added


# --- first build ---------------------------------------------------------------------------------
def test_first_build_is_full(kb, index_dir):
    report = build_index(kb, index_dir)
    assert report.full and sorted(report.added) == FIXTURE_IDS
    assert report.updated == report.removed == [] and report.errors == []
    generation = current_generation(index_dir)
    assert generation.name == report.generation == pointer(index_dir)
    for path in (generation.whoosh, generation.catalog, generation.manifest, generation.synonyms,
                 generation.file_stats):
        assert path.exists()
    assert not generation.vectors.exists()   # keyword only: no embedder
    manifest = json.loads(generation.manifest.read_text())
    assert sorted(manifest) == FIXTURE_IDS
    assert "full rebuild" in report.summary() and "9 added" in report.summary()


def test_every_section_is_a_document(kb, index_dir):
    build_index(kb, index_dir)
    generation = current_generation(index_dir)
    assert section_docs(generation, "en/reset-password") == 3   # intro + two headings
    assert section_docs(generation, "ru/download-invoices") == 2


def test_broken_articles_are_reported_and_skipped(kb, index_dir):
    (kb / "en" / "broken.md").write_text("---\ntitle: [oops\n---\nBody\n", encoding="utf-8")
    report = build_index(kb, index_dir)
    assert [(e.path, e.line) for e in report.errors] == [("en/broken.md", 2)]
    assert sorted(report.added) == FIXTURE_IDS
    assert "1 errors" in report.summary()


# --- incremental updates -------------------------------------------------------------------------
def test_nothing_changed(kb, index_dir, monkeypatch):
    first = build_index(kb, index_dir)
    added = record_adds(monkeypatch)
    report = build_index(kb, index_dir)
    assert not report.full and not report.changed
    assert (report.added, report.updated, report.removed, report.unchanged) == ([], [], [], 9)
    assert report.generation == first.generation
    assert added == []                                   # unchanged articles are not re-added
    assert "incremental update" in report.summary() and "9 unchanged" in report.summary()


def test_changed_article_is_updated(kb, index_dir, monkeypatch):
    build_index(kb, index_dir)
    service = SearchService(index_dir)
    assert service.search("zebrafish").total == 0
    path = kb / "en" / "two-factor.md"
    path.write_text(path.read_text().replace("Lost your phone", "Lost your zebrafish phone"))
    added = record_adds(monkeypatch)
    report = build_index(kb, index_dir)
    assert report.updated == ["en/two-factor"] and report.added == report.removed == []
    assert report.unchanged == 8
    assert added == ["en/two-factor"]
    assert ids(service.search("zebrafish")) == ["en/two-factor"]
    assert service.search("zebrafish").hits[0].anchor == "lost-your-zebrafish-phone"
    assert section_docs(current_generation(index_dir), "en/two-factor") == 3   # replaced, not doubled


def test_metadata_change_is_an_update(kb, index_dir):
    build_index(kb, index_dir)
    path = kb / "en" / "reset-password.md"
    path.write_text(path.read_text().replace("category: account", "category: billing"))
    report = build_index(kb, index_dir)
    assert report.updated == ["en/reset-password"]
    service = SearchService(index_dir)
    assert ids(service.search("password", categories=["billing"])) == ["en/reset-password"]


def test_deleted_article_is_removed(kb, index_dir):
    build_index(kb, index_dir)
    service = SearchService(index_dir)
    assert "en/two-factor" in ids(service.search("authenticator"))
    (kb / "en" / "two-factor.md").unlink()
    report = build_index(kb, index_dir)
    assert report.removed == ["en/two-factor"] and report.unchanged == 8
    assert service.search("authenticator").total == 0
    assert service.catalog.get("two-factor", "en") is None
    assert section_docs(current_generation(index_dir), "en/two-factor") == 0


def test_new_article_is_added(kb, index_dir):
    build_index(kb, index_dir)
    write_article(kb, "en", "sso", "Single sign-on with SAML", "Connect Okta or Azure AD.", category="account")
    report = build_index(kb, index_dir)
    assert report.added == ["en/sso"] and report.unchanged == 9
    assert ids(SearchService(index_dir).search("okta")) == ["en/sso"]


def test_article_that_breaks_is_removed_and_reported(kb, index_dir):
    build_index(kb, index_dir)
    (kb / "en" / "two-factor.md").write_text("---\ntitle: Two-factor\nlanguage: xx\n---\nBody\n")
    report = build_index(kb, index_dir)
    assert report.removed == ["en/two-factor"]
    assert [(e.path, e.line) for e in report.errors] == [("en/two-factor.md", 3)]


def test_publishing_a_draft(kb, index_dir):
    build_index(kb, index_dir)
    service = SearchService(index_dir)
    assert service.search("upcoming plans").total == 0
    path = kb / "en" / "draft-plans.md"
    path.write_text(path.read_text().replace("status: draft", "status: published"))
    assert build_index(kb, index_dir).updated == ["en/draft-plans"]
    assert ids(service.search("upcoming plans")) == ["en/draft-plans"]


def test_synonyms_and_categories_change_without_article_changes(kb, index_dir):
    build_index(kb, index_dir)
    service = SearchService(index_dir)
    assert service.search("mfa").total == 0
    (kb / "synonyms.txt").write_text("mfa, two-factor\n", encoding="utf-8")
    categories = load_categories(kb)
    categories["account"]["en"] = "Your account"
    (kb / "categories.yml").write_text(yaml.safe_dump(categories, allow_unicode=True), encoding="utf-8")
    report = build_index(kb, index_dir)
    assert not report.changed
    assert ids(service.search("mfa"))[0] == "en/two-factor"
    assert service.catalog.category_name("account", "en") == "Your account"


def test_an_unchanged_article_whose_category_is_removed_is_reported_and_unpublished(kb, index_dir):
    build_index(kb, index_dir)
    service = SearchService(index_dir)
    category = service.catalog.articles["en/two-factor"].category
    others = {name: names for name, names in load_categories(kb).items() if name != category}
    (kb / "categories.yml").write_text(yaml.safe_dump(others, allow_unicode=True), encoding="utf-8")
    report = build_index(kb, index_dir)
    assert any("two-factor" in error.path and "unknown category" in error.message
               for error in report.errors)
    assert "en/two-factor" in report.removed and service.search("authenticator").total == 0


def test_incremental_crash_changes_nothing_and_next_run_recovers(kb, index_dir, monkeypatch):
    build_index(kb, index_dir)
    service = SearchService(index_dir)
    generation = current_generation(index_dir)
    manifest = generation.manifest.read_text()
    path = kb / "en" / "two-factor.md"
    path.write_text(path.read_text().replace("Lost your phone", "Lost your zebrafish phone"))

    def boom(writer, article):
        raise RuntimeError("disk full")
    monkeypatch.setattr(keyword, "add_article", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        build_index(kb, index_dir)
    assert generation.manifest.read_text() == manifest
    assert ids(service.search("authenticator")) == ["en/two-factor"]   # the old version still serves
    monkeypatch.undo()
    # the writer lock was released: the next run applies the change
    assert build_index(kb, index_dir).updated == ["en/two-factor"]
    assert ids(service.search("zebrafish")) == ["en/two-factor"]


def test_rerun_after_a_crash_before_the_manifest_does_not_duplicate(kb, index_dir, monkeypatch):
    build_index(kb, index_dir)
    write_article(kb, "en", "sso", "Single sign-on with SAML", "Connect Okta.\n\n## Azure\n\nConnect Azure AD.")
    original = index_module.write_generation_files
    monkeypatch.setattr(index_module, "write_generation_files",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("killed")))
    with pytest.raises(RuntimeError):
        build_index(kb, index_dir)            # sections committed, manifest not written
    monkeypatch.setattr(index_module, "write_generation_files", original)
    report = build_index(kb, index_dir)
    assert report.added == ["en/sso"]
    assert section_docs(current_generation(index_dir), "en/sso") == 2


# --- full rebuilds -------------------------------------------------------------------------------
def test_full_rebuild_swaps_current(kb, index_dir):
    first = build_index(kb, index_dir)
    service = SearchService(index_dir)
    write_article(kb, "en", "sso", "Single sign-on with SAML", "Connect Okta.")
    report = build_index(kb, index_dir, full=True)
    assert report.full and report.generation != first.generation
    assert pointer(index_dir) == report.generation
    assert sorted(report.added) == sorted(FIXTURE_IDS + ["en/sso"])
    assert not (index_dir / (CURRENT + ".tmp")).exists()
    # the running service follows the new generation by itself
    assert ids(service.search("okta")) == ["en/sso"]
    assert service.health()["index"] == report.generation


def test_old_generations_are_pruned(kb, index_dir):
    names = [build_index(kb, index_dir, full=True).generation for _ in range(4)]
    assert len(set(names)) == 4
    assert generations(index_dir) == sorted(names[-2:])   # the served one and the one before
    assert pointer(index_dir) == names[-1]


def test_rebuilds_within_one_second_never_reuse_a_name(kb, index_dir, monkeypatch):
    # all builds get the same time stamp; a pruned "-0" must not come back as the newest
    # generation (it would sort as the oldest and the served one before it would be pruned)
    import time as real_time
    from types import SimpleNamespace
    monkeypatch.setattr(generation_module, "time", SimpleNamespace(
        strftime=lambda fmt: "20260101T000000", perf_counter=real_time.perf_counter))
    names = []
    for _ in range(5):
        names.append(build_index(kb, index_dir, full=True).generation)
        assert generations(index_dir)[-1] == names[-1] == pointer(index_dir)
        if len(names) > 1:
            assert names[-2] in generations(index_dir)   # the previously served one is kept
    assert len(set(names)) == 5
    assert generations(index_dir) == names[-2:]


def test_prune_orders_generations_numerically(index_dir):
    index_dir.mkdir()
    for n in (2, 9, 10):
        (index_dir / f"gen-20260101T000000-{n}").mkdir()
        Generation(index_dir / f"gen-20260101T000000-{n}").manifest.write_text("{}")
    keep = index_dir / "gen-20260101T000000-11"
    keep.mkdir()
    IndexFolder(index_dir).prune(Generation(keep))
    # -10 is newer than -9 and -2 (not "-10" < "-2" as strings)
    assert generations(index_dir) == ["gen-20260101T000000-10", "gen-20260101T000000-11"]


def _dead_pid() -> int:
    import subprocess
    import sys
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_killed_rebuild_leaves_an_orphan_that_the_next_rebuild_removes(kb, index_dir):
    good = build_index(kb, index_dir, full=True).generation
    orphan = IndexFolder(index_dir).new_generation()        # a full build killed mid-way
    (orphan.path / "whoosh").mkdir()
    orphan.builder.write_text(str(_dead_pid()))
    newest = build_index(kb, index_dir, full=True).generation
    # the live one and the last good one stay; the half-written orphan goes
    assert generations(index_dir) == [good, newest]


def test_a_generation_another_live_build_is_writing_is_not_pruned(kb, index_dir):
    build_index(kb, index_dir, full=True)
    in_progress = IndexFolder(index_dir).new_generation()   # this process is alive
    newest = build_index(kb, index_dir, full=True).generation
    assert in_progress.name in generations(index_dir) and newest == pointer(index_dir)


@pytest.mark.parametrize("fail_at", [1, 3, 8])
def test_crash_mid_rebuild_keeps_previous_generation(kb, index_dir, monkeypatch, fail_at):
    first = build_index(kb, index_dir)
    service = SearchService(index_dir)
    before = generations(index_dir)
    calls = []
    original = keyword.add_article

    def flaky(writer, article):
        calls.append(article.id)
        if len(calls) == fail_at:
            raise RuntimeError("crash while indexing")
        original(writer, article)
    monkeypatch.setattr(keyword, "add_article", flaky)
    write_article(kb, "en", "sso", "Single sign-on with SAML", "Connect Okta.")
    with pytest.raises(RuntimeError, match="crash while indexing"):
        build_index(kb, index_dir, full=True)
    assert len(calls) == fail_at
    assert pointer(index_dir) == first.generation                 # CURRENT unchanged
    assert generations(index_dir) == before                       # no half-built generation left
    assert ids(service.search("password"))[0] == "en/reset-password"   # still serving
    assert service.search("okta").total == 0
    assert ids(SearchService(index_dir).search("invoice")) == ["en/download-invoices"]
    monkeypatch.undo()
    # and the next rebuild works
    report = build_index(kb, index_dir, full=True)
    assert ids(service.search("okta")) == ["en/sso"] and pointer(index_dir) == report.generation


def test_missing_manifest_forces_full_build(kb, index_dir):
    first = build_index(kb, index_dir)
    current_generation(index_dir).manifest.unlink()
    report = build_index(kb, index_dir)
    assert report.full and report.generation != first.generation


def test_dangling_current_pointer_rebuilds(kb, index_dir):
    build_index(kb, index_dir)
    (index_dir / CURRENT).write_text("gen-that-does-not-exist")
    assert current_generation(index_dir) is None
    report = build_index(kb, index_dir)
    assert report.full and current_generation(index_dir).name == report.generation


def test_service_notices_incremental_update(kb, index_dir):
    build_index(kb, index_dir)
    service = SearchService(index_dir)
    stamp = service.health()["index"]
    write_article(kb, "uk", "sso", "Єдиний вхід через SAML", "Підключіть Okta.")
    build_index(kb, index_dir)
    assert ids(service.search("okta")) == ["uk/sso"]
    assert service.catalog.get("sso", "uk") is not None
    assert service.health()["index"] == stamp   # same generation, reopened
