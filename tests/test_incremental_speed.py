"""Incremental builds parse only the files that changed (indexer/articles/scan.py,
indexer/index.py, indexer/catalog.py), and give the same result as a full rebuild."""
from __future__ import annotations

import json
import os
import threading
import time

import pytest
import yaml

import indexer.articles.scan as scan_module
import indexer.catalog as catalog_module
from indexer.articles import StoredArticle, parse_article, scan_articles
from indexer.articles.parser import FAST_YAML_LOADER
from indexer.catalog import Catalog, load_categories
from indexer.generation import current_generation
from indexer.index import build_index
from indexer.render import render_markdown
from indexer.search import SearchService
from search_helpers import FIXTURE_KB, ids, write_article

QUERIES = ["password", "invoice", "authenticator", "zebrafish", "okta", "пароль", "рахунок"]


@pytest.fixture
def parses(monkeypatch):
    """Paths passed to ``parse_article`` (cleared by the test between builds)."""
    seen: list[str] = []
    original = scan_module.parse_article

    def counting(text, path="<string>", default_language=None, **options):
        seen.append(path)
        return original(text, path, default_language, **options)
    monkeypatch.setattr(scan_module, "parse_article", counting)
    return seen


def catalog_state(index_dir):
    """Everything the catalog serves, comparable between two index folders."""
    catalog = Catalog.load(current_generation(index_dir).catalog)
    return ({i: a.to_dict() for i, a in catalog.articles.items()}, catalog.categories,
            {p: v for p, v in catalog.files.items()})


def search_state(index_dir):
    service = SearchService(index_dir)
    return {q: [(h.id, h.anchor, h.section, h.snippet) for h in service.search(q).hits] for q in QUERIES}


def assert_same_as_full_rebuild(kb, index_dir, tmp_path):
    fresh = tmp_path / "fresh-index"
    build_index(kb, fresh, full=True)
    assert catalog_state(index_dir) == catalog_state(fresh)
    # unchanged articles' lines are copied, the others encoded: the same file either way
    assert current_generation(index_dir).catalog.read_bytes() == \
        current_generation(fresh).catalog.read_bytes()
    assert search_state(index_dir) == search_state(fresh)
    manifest = json.loads(current_generation(index_dir).manifest.read_text())
    assert manifest == json.loads(current_generation(fresh).manifest.read_text())


# --- only changed files are parsed ---------------------------------------------------------------
def test_unchanged_knowledge_base_parses_nothing(kb, index_dir, parses):
    first = build_index(kb, index_dir)
    assert len(parses) == first.parsed == 9
    parses.clear()
    (kb / "en" / "two-factor.md").touch()   # a new mtime, the same bytes
    report = build_index(kb, index_dir)
    assert parses == [] and report.parsed == 0
    assert not report.changed and report.unchanged == 9


def test_changed_file_is_the_only_one_parsed(kb, index_dir, parses, tmp_path):
    build_index(kb, index_dir)
    parses.clear()
    path = kb / "en" / "two-factor.md"
    path.write_text(path.read_text().replace("Lost your phone", "Lost your zebrafish phone"))
    report = build_index(kb, index_dir)
    assert parses == ["en/two-factor.md"]
    assert report.updated == ["en/two-factor"] and report.unchanged == 8
    assert ids(SearchService(index_dir).search("zebrafish")) == ["en/two-factor"]
    assert_same_as_full_rebuild(kb, index_dir, tmp_path)


@pytest.fixture
def reads(monkeypatch):
    """Paths of article files read (cleared by the test between builds)."""
    seen: list[str] = []
    original = scan_module.read_file

    def counting(path):
        seen.append(os.path.relpath(path, path.split("/en/")[0].split("/ru/")[0].split("/uk/")[0]))
        return original(path)
    monkeypatch.setattr(scan_module, "read_file", counting)
    return seen


def settle(kb, seconds_ago=3600):
    """Give every article file an old modification time (as files edited long ago have)."""
    past = time.time() - seconds_ago
    for path in kb.rglob("*.md"):
        os.utime(path, (past, past))


def test_files_with_unchanged_size_and_time_are_not_read(kb, index_dir, reads):
    settle(kb)
    build_index(kb, index_dir)
    assert len(reads) == 9
    reads.clear()
    assert not build_index(kb, index_dir).changed
    assert reads == []
    path = kb / "en" / "two-factor.md"
    path.write_text(path.read_text().replace("Lost your phone", "Lost your zebrafish phone"))
    report = build_index(kb, index_dir)
    assert reads == ["en/two-factor.md"] and report.updated == ["en/two-factor"]
    assert ids(SearchService(index_dir).search("zebrafish")) == ["en/two-factor"]


def test_a_file_changed_right_after_a_build_is_read_again(kb, index_dir):
    """Racily clean: a same-size edit within the file system's clock tick keeps the old
    modification time; a file that recent is never trusted by its stat alone."""
    path = kb / "en" / "two-factor.md"
    text = path.read_text()
    path.write_text(text)        # edited just now
    build_index(kb, index_dir)
    before = os.stat(path)
    path.write_text(text.replace("Lost your phone", "Lost your qwxyz", 1))
    assert os.stat(path).st_size == before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    build_index(kb, index_dir)
    assert ids(SearchService(index_dir).search("qwxyz")) == ["en/two-factor"]


def test_full_rebuild_parses_everything(kb, index_dir, parses):
    build_index(kb, index_dir)
    parses.clear()
    report = build_index(kb, index_dir, full=True)
    assert len(parses) == report.parsed == 9


def test_new_and_deleted_files(kb, index_dir, parses, tmp_path):
    build_index(kb, index_dir)
    parses.clear()
    write_article(kb, "en", "sso", "Single sign-on with SAML", "Connect Okta.\n\n## Azure\n\nConnect Azure AD.")
    (kb / "en" / "two-factor.md").unlink()
    report = build_index(kb, index_dir)
    assert parses == ["en/sso.md"]
    assert report.added == ["en/sso"] and report.removed == ["en/two-factor"]
    service = SearchService(index_dir)
    assert service.catalog.get("two-factor", "en") is None
    assert "en/two-factor.md" not in service.catalog.files
    assert service.search("authenticator").total == 0
    assert ids(service.search("okta")) == ["en/sso"]
    assert_same_as_full_rebuild(kb, index_dir, tmp_path)


def test_moved_file_keeps_its_article_with_the_new_path(kb, index_dir, parses, tmp_path):
    build_index(kb, index_dir)
    parses.clear()
    (kb / "en" / "guides").mkdir()
    (kb / "en" / "two-factor.md").rename(kb / "en" / "guides" / "two-factor.md")
    report = build_index(kb, index_dir)
    assert parses == ["en/guides/two-factor.md"]
    assert not report.changed                     # same article, same content
    assert SearchService(index_dir).catalog.get("two-factor", "en").path == "en/guides/two-factor.md"
    assert_same_as_full_rebuild(kb, index_dir, tmp_path)


# --- errors are reported on every run ------------------------------------------------------------
def test_broken_file_is_reported_on_every_run(kb, index_dir, parses):
    (kb / "en" / "broken.md").write_text("---\ntitle: [oops\n---\nBody\n", encoding="utf-8")
    (kb / "en" / "latin1.md").write_bytes("---\ntitle: Caf\xe9\n---\n".encode("latin-1"))
    expected = [("en/broken.md", 2), ("en/latin1.md", 2)]   # the line of the byte
    assert [(e.path, e.line) for e in build_index(kb, index_dir).errors] == expected
    for _ in range(2):
        parses.clear()
        report = build_index(kb, index_dir)
        assert [(e.path, e.line) for e in report.errors] == expected
        assert parses == ["en/broken.md"]          # parsed again; not valid UTF-8 never gets there
        assert not report.changed
    (kb / "en" / "broken.md").write_text("---\ntitle: Fixed\n---\nBody\n", encoding="utf-8")
    report = build_index(kb, index_dir)
    assert [(e.path, e.line) for e in report.errors] == [("en/latin1.md", 2)]
    assert report.added == ["en/broken"]


def test_duplicate_slug_is_reported_on_every_run(kb, index_dir, parses):
    copy = kb / "en" / "reset-password-v2.md"
    copy.write_text("---\ntitle: Copy\nslug: reset-password\n---\nCopy.\n", encoding="utf-8")
    for _ in range(2):
        parses.clear()
        report = build_index(kb, index_dir)
        assert [(e.path, e.line) for e in report.errors] == [("en/reset-password-v2.md", 3)]
        assert "already used by en/reset-password.md" in report.errors[0].message
        catalog = SearchService(index_dir).catalog
        assert catalog.get("reset-password", "en").title == "Reset your password"
    assert parses == ["en/reset-password-v2.md"]   # the loser is not cached: parsed again


def test_an_unchanged_file_that_loses_its_slug_is_reported(kb, index_dir, parses, tmp_path):
    # en/old-name.md owns slug "sso"; a new en/sso.md takes it: the reused, unchanged file is
    # the duplicate now, with the line of its slug
    (kb / "en" / "old-name.md").write_text("---\ntitle: Old\nsummary: x\nslug: sso\n---\nOld.\n",
                                           encoding="utf-8")
    build_index(kb, index_dir)
    parses.clear()
    write_article(kb, "en", "sso", "Single sign-on with SAML", "Connect Okta.")
    report = build_index(kb, index_dir)
    assert parses == ["en/sso.md"]
    assert [(e.path, e.line) for e in report.errors] == [("en/old-name.md", 4)]
    assert "already used by en/sso.md" in report.errors[0].message
    assert report.updated == ["en/sso"]
    assert SearchService(index_dir).catalog.get("sso", "en").title == "Single sign-on with SAML"
    assert_same_as_full_rebuild(kb, index_dir, tmp_path)


def test_changed_file_that_breaks_is_removed(kb, index_dir, parses):
    build_index(kb, index_dir)
    (kb / "en" / "two-factor.md").write_text("---\ntitle: Two-factor\nlanguage: xx\n---\nBody\n")
    for _ in range(2):
        report = build_index(kb, index_dir)
        assert [(e.path, e.line) for e in report.errors] == [("en/two-factor.md", 3)]
    assert SearchService(index_dir).catalog.get("two-factor", "en") is None


# --- files beside the articles -------------------------------------------------------------------
def test_synonyms_and_categories_take_effect_without_parsing(kb, index_dir, parses):
    build_index(kb, index_dir)
    assert SearchService(index_dir).search("mfa").total == 0
    parses.clear()
    (kb / "synonyms.txt").write_text("mfa, two-factor\n", encoding="utf-8")
    categories = load_categories(kb)
    categories["account"]["en"] = "Your account"     # the same categories, named anew
    (kb / "categories.yml").write_text(yaml.safe_dump(categories, allow_unicode=True), encoding="utf-8")
    report = build_index(kb, index_dir)
    assert parses == [] and not report.changed
    service = SearchService(index_dir)
    assert ids(service.search("mfa"))[0] == "en/two-factor"
    assert service.catalog.category_name("account", "en") == "Your account"


# --- the catalog as a cache ----------------------------------------------------------------------
def catalog_dicts(path) -> list[dict]:
    """The articles of a saved catalog as plain dicts (metadata and rendered parts, which are
    stored apart: ``meta.articles[i].rendered`` is the byte range of ``rendered[i]``)."""
    data = path.read_bytes()
    document = json.loads(data)
    dicts = []
    for meta, rendered in zip(document["meta"]["articles"], document["rendered"]):
        start, end = meta.pop("rendered")
        assert json.loads(data[start:end]) == rendered
        dicts.append({**meta, **rendered})
    return dicts


def test_catalog_keeps_hashes_not_bodies(kb, index_dir):
    build_index(kb, index_dir)
    generation = current_generation(index_dir)
    saved = catalog_dicts(generation.catalog)
    manifest = json.loads(generation.manifest.read_text())
    assert all("body" not in a for a in saved)
    assert {a["id"]: a["content_hash"] for a in saved} == manifest
    catalog = Catalog.load(generation.catalog)
    assert {i: a.content_hash for i, a in catalog.articles.items()} == manifest
    assert sorted(catalog.files) == sorted(a["path"] for a in saved)


def test_catalog_round_trip(tmp_path):
    articles = scan_articles(FIXTURE_KB).articles
    for subset in (articles, articles[:1], []):
        path = tmp_path / "catalog.json"
        Catalog(subset, {"account": {"en": "Account"}}, {"en/a.md": ("abc", "en/a")}).save(path)
        catalog = Catalog.load(path)
        assert [a.to_dict(body=False) for a in catalog.articles.values()] == \
            [a.to_dict(body=False) for a in subset]
        assert catalog.categories == {"account": {"en": "Account"}}
        assert catalog.files == {"en/a.md": ("abc", "en/a")}
        before = path.read_bytes()
        Catalog.load(path).save(path)              # lines copied as they were
        assert path.read_bytes() == before
        catalog.save(path)                         # (rendered parts decoded above: encoded again)
        assert path.read_bytes() == before


@pytest.mark.parametrize("length", [1, 1000, 1990, 1995, 2000, 2010, 2040, 3000])
def test_long_metadata_round_trips(tmp_path, length):
    # byte ranges of the rendered parts stay right with long, two-byte (Cyrillic) metadata
    text = f"---\ntitle: Т\nsummary: {'ж' * length}\ntags: [я]\n---\nТекст.\n\n## Раздел\n\nЕщё.\n"
    article = parse_article(text, "ru/t.md", "ru")
    Catalog([article]).save(tmp_path / "catalog.json")
    loaded = Catalog.load(tmp_path / "catalog.json").get("t", "ru")
    assert loaded.to_dict(body=False) == article.to_dict(body=False)


def test_stored_articles_decode_their_rendered_parts_on_first_use(tmp_path):
    articles = scan_articles(FIXTURE_KB).articles
    path = tmp_path / "catalog.json"
    Catalog(articles).save(path)
    loaded = Catalog.load(path).articles
    stored = loaded["en/reset-password"]
    assert isinstance(stored, StoredArticle) and stored.catalog_row is not None
    assert "html" not in stored.__dict__
    assert stored.is_public and stored.translation_key == "reset-password"
    assert stored.catalog_row is not None          # metadata needs no decoding
    original = next(a for a in articles if a.id == "en/reset-password")
    assert stored.sections == original.sections and stored.toc == original.toc
    assert stored.html == original.html
    assert stored.catalog_row is None              # decoded once, the line is let go
    assert stored.content_hash == original.content_hash and stored.body == ""
    with pytest.raises(AttributeError):
        stored.no_such_field
    # a changed article is encoded again, not copied from its old line
    catalog = Catalog.load(path)
    catalog.get("two-factor", "en").title = "Changed title"
    catalog.get("reset-password", "en").html = "<p>Changed html</p>"
    catalog.save(path)
    again = Catalog.load(path)
    assert again.get("two-factor", "en").title == "Changed title"
    assert again.get("two-factor", "en").sections == next(a for a in articles if a.id == "en/two-factor").sections
    assert again.get("reset-password", "en").html == "<p>Changed html</p>"
    assert again.get("reset-password", "en").sections == original.sections
    Catalog(articles).save(path)
    # many threads reading one article at once all see it whole
    fresh = Catalog.load(path).articles
    seen: list = []

    def read(article) -> None:
        seen.append((article.html, len(article.sections), len(article.toc)))
    threads = [threading.Thread(target=read, args=(a,)) for a in fresh.values() for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == sorted((a.html, len(a.sections), len(a.toc)) for a in articles for _ in range(4))


def test_catalog_without_file_hashes_is_parsed_again(kb, index_dir, parses, tmp_path):
    # a catalog written before file hashes existed: one JSON document, articles with bodies
    build_index(kb, index_dir)
    path = current_generation(index_dir).catalog
    old = {"categories": json.loads(path.read_text())["meta"]["categories"], "articles": catalog_dicts(path)}
    by_path = {a.path: a for a in scan_articles(kb).articles}
    for article in old["articles"]:
        article["body"] = by_path[article["path"]].body
    path.write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
    assert Catalog.load(path).get("two-factor", "en").title == "Set up two-factor authentication"
    parses.clear()
    report = build_index(kb, index_dir)
    assert len(parses) == 9 and not report.changed
    parses.clear()
    build_index(kb, index_dir)                     # the catalog has file hashes again
    assert parses == []
    assert_same_as_full_rebuild(kb, index_dir, tmp_path)


def test_catalog_of_the_previous_layout_still_serves(kb, index_dir):
    # one line per article, [metadata, rendered parts] (written before metadata moved to the end)
    build_index(kb, index_dir)
    path = current_generation(index_dir).catalog
    expected = SearchService(index_dir).search("password").to_dict()
    head = json.loads(path.read_text())["meta"]
    rows = [[{k: v for k, v in a.items() if k not in ("html", "toc", "sections")},
             {k: a[k] for k in ("html", "toc", "sections")}] for a in catalog_dicts(path)]
    path.write_text(json.dumps({**head, "articles": rows}, ensure_ascii=False), encoding="utf-8")
    assert SearchService(index_dir).search("password").to_dict() == expected
    assert Catalog.load(path).get("two-factor", "en").sections


def test_another_parser_version_is_parsed_again(kb, index_dir, parses, monkeypatch):
    build_index(kb, index_dir)
    parses.clear()
    monkeypatch.setattr(catalog_module, "PARSER_VERSION", catalog_module.PARSER_VERSION + 1)
    report = build_index(kb, index_dir)
    assert len(parses) == 9 and not report.changed


def test_an_index_analyzed_by_another_version_is_rebuilt_in_full(kb, index_dir, monkeypatch):
    import indexer.index as index_module
    build_index(kb, index_dir)
    assert not build_index(kb, index_dir).full
    monkeypatch.setattr(index_module, "ANALYSIS_VERSION", index_module.ANALYSIS_VERSION + 1)
    report = build_index(kb, index_dir)
    assert report.full and not build_index(kb, index_dir).full


def test_an_index_from_before_analysis_versions_is_rebuilt_in_full(kb, index_dir):
    build_index(kb, index_dir)
    current_generation(index_dir).analysis.unlink()
    report = build_index(kb, index_dir)
    assert report.full and current_generation(index_dir).analysis.exists()


def test_unreadable_catalog_means_parsing_everything(kb, index_dir, parses):
    build_index(kb, index_dir)
    current_generation(index_dir).catalog.write_text("{not json", encoding="utf-8")
    parses.clear()
    report = build_index(kb, index_dir)
    assert len(parses) == 9 and not report.changed
    assert SearchService(index_dir).catalog.get("two-factor", "en") is not None


def test_many_edits_end_like_a_full_rebuild(kb, index_dir, tmp_path):
    build_index(kb, index_dir)
    path = kb / "en" / "reset-password.md"
    path.write_text(path.read_text().replace("category: account", "category: billing"))
    write_article(kb, "uk", "sso", "Єдиний вхід через SAML", "Підключіть Okta.\n\n## Azure\n\nТекст.")
    build_index(kb, index_dir)
    (kb / "ru" / "download-invoices.md").unlink()
    path = kb / "en" / "draft-plans.md"
    path.write_text(path.read_text().replace("status: draft", "status: published"))
    build_index(kb, index_dir)
    write_article(kb, "ru", "download-invoices", "Скачать счёт",
                  "Откройте **Оплата**.\n\n## Архив\n\nСтарые счета.")
    build_index(kb, index_dir)
    assert_same_as_full_rebuild(kb, index_dir, tmp_path)


# --- faster parsing ------------------------------------------------------------------------------
def test_libyaml_is_used_when_available():
    if getattr(yaml, "__with_libyaml__", False):
        assert FAST_YAML_LOADER is yaml.CSafeLoader
    else:
        assert FAST_YAML_LOADER is yaml.SafeLoader


def test_line_ends_and_bom_do_not_change_the_article(tmp_path):
    text = "---\ntitle: Windows article\ntags: [a, b]\n---\nIntro\n\n## Heading\nBody text\n"
    for name in ("unix", "windows"):
        (tmp_path / name / "en").mkdir(parents=True)
    (tmp_path / "unix" / "en" / "a.md").write_text(text, encoding="utf-8")
    (tmp_path / "windows" / "en" / "a.md").write_bytes(("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8"))
    (unix,) = scan_articles(tmp_path / "unix").articles
    (windows,) = scan_articles(tmp_path / "windows").articles
    assert "\r" not in windows.body
    assert windows.body == unix.body and windows.sections == unix.sections
    assert windows.content_hash == unix.content_hash


def test_rendering_in_threads_gives_the_same_result():
    bodies = [f"Intro {n}.\n\n## Step {n}\n\n| a | b |\n|---|--:|\n| {n} | x |\n\n## Step {n}\n\n"
              f"[link][r]\n\n[r]: https://example.com/{n}\n" for n in range(40)]
    expected = [render_markdown(b) for b in bodies]
    results: dict[int, list] = {}

    def work(worker: int) -> None:
        results[worker] = [render_markdown(b) for b in bodies for _ in range(3)][::3]
    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in range(4):
        assert results[worker] == expected
    assert [t["anchor"] for t in expected[0].toc] == ["step-0", "step-0_1"]
    assert expected[0].sections[-1].text == "link"   # a reference defined in another section
