"""A docs-as-code author's knowledge base: every problem of a file as ``file:line: message``
(errors keep only that file out, warnings print), ``kb check`` / ``kb index`` / ``kb sync-files``
and the server's file sync with a broken or duplicate file, health, links and images between
files, feedback on articles that do not exist."""
from __future__ import annotations

import json
import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from indexer.articles import ArticleError, load_articles, parse_article
from indexer.articles.links import check_links
from indexer.articles.parser import KNOWN_KEYS
from kb_server.authoring import files
from kb_server.cli import main
from kb_server.extensions import db
from kb_server.models import KbArticle, Ticket
from search_helpers import FIXTURE_KB, write_article

CATEGORIES = {"account": {"order": 1}, "billing": {"order": 2}}
BAD_DATE = "---\ntitle: Broken date\nupdated: 2026-13-45\ncategory: account\n---\nBody.\n"
DUPLICATE = "---\ntitle: Impostor\nslug: reset-password\ncategory: account\n---\nNot the real one.\n"


def png(width: int = 1, height: int = 1) -> bytes:
    """A valid PNG image (what the help center may serve from the articles folder)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def parse(front: str, body: str = "Body.\n", **options) -> object:
    return parse_article(f"---\n{front}---\n{body}", "en/x.md", default_language="en", **options)


def problem(front: str, **options) -> ArticleError:
    with pytest.raises(ArticleError) as caught:
        parse(front, **options)
    return caught.value


# --- 1. a value YAML reads but cannot build is this file's error, never a crash -----------------
@pytest.mark.parametrize("front, line, message", [
    ("title: T\nupdated: 2026-13-45\n", 3, "invalid date '2026-13-45': month must be in 1..12"),
    ("title: T\nupdated: 2026-02-30\n", 3, "invalid date '2026-02-30': day is out of range for month"),
    ("title: 2026-13-45\n", 2, "invalid date '2026-13-45'"),
    ("title: T\ntags: [a, 2026-99-01]\n", 3, "invalid date '2026-99-01'"),
    ("title: T\nupdated: soon\n", 3, "invalid date 'soon': write it as YYYY-MM-DD"),
    ("title: [a, b]\n", 2, "'title' must be text, not a list"),
    ("title: {a: 1}\n", 2, "'title' must be text, not a mapping"),
    ("title: yes\n", 2, "'title' is read as true: quote it to mean text"),
    ("title: T\nslug: 1.5\n", 3, "invalid slug '1.5'"),
    ("title: T\nsummary: [x]\n", 3, "'summary' must be text"),
    ("title: T\ntags: [true]\n", 3, "'tags' must be a list of strings"),
])
def test_a_value_that_cannot_be_read_is_an_error_with_its_line(front, line, message):
    error = problem(front)
    assert (error.path, error.line) == ("en/x.md", line)
    assert message in error.message


def test_numbers_and_dates_are_taken_as_written():
    article = parse("title: 2024\nslug: 404\nupdated: 2026-01-31\ntags: [1, 2.5]\n")
    assert (article.title, article.slug, article.updated, article.tags) == (
        "2024", "404", "2026-01-31", ["1", "2.5"])


VALUES = ["2026-13-45", "2026-02-30", "2026-01-31", "12", "-1.5e400", "1e400", ".nan", "yes", "null",
          "''", "[]", "{}", "[[a]]", "{a: [1, {b: 2}]}", "[2026-13-45]", "!!binary aGk=",
          "!!timestamp 2026-13-45", "!!float x", "!!int x", "0x1F", "~", "'2026-13-45'",
          "|\n  block\n", "- a\n- b\n", "2026-01-31 25:61:61", "!!set {a, b}", "!!omap [a: 1]"]


@pytest.mark.parametrize("key", [*KNOWN_KEYS, "sumary", "2026-13-45"])
def test_fuzz_every_key_with_odd_values_never_raises_anything_but_an_article_error(key):
    for value in VALUES:
        separator = "\n" if value.startswith(("|", "-")) else " "
        front = f"title: T\n{key}:{separator}{value}\n" if key != "title" else f"title:{separator}{value}\n"
        try:
            article = parse(front)
        except ArticleError as error:
            assert error.path == "en/x.md" and 1 <= error.line <= 4, (key, value, error)
        else:
            assert isinstance(article.title, str) and isinstance(article.updated, str), (key, value)
            assert all(isinstance(item, str) for item in article.tags + article.urls), (key, value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KNOWN_KEYS), st.text(max_size=30), max_size=6))
def test_fuzz_front_matter_text_never_raises_anything_but_an_article_error(meta):
    front = "".join(f"{key}: {value}\n" for key, value in meta.items())
    try:
        parse(front)
    except ArticleError as error:
        assert str(error).startswith("en/x.md:")


@pytest.mark.parametrize("value", ["[" * 5000, "[" * 5000 + "]" * 5000 + ": x", "{a: " * 3000,
                                   "[" * 3000 + "2026-13-45" + "]" * 3000 + "\nx: [1, 2026-13-45]"])
def test_deeply_nested_front_matter_is_an_error_not_a_crash(value):
    assert problem(f"title: T\ntags: {value}\n").message.startswith(("invalid YAML", "invalid date",
                                                                     "'tags' must be"))


def test_markdown_nested_too_deeply_to_render_is_shown_as_text_with_a_warning():
    article = parse("title: T\n", "Intro\n\n" + "- " * 3000 + "x\n")
    assert article.html.startswith("<pre>Intro") and "- - -" in article.sections[0].text
    assert [str(w) for w in article.warnings] == [
        "en/x.md:4: warning: the Markdown is nested too deeply to render: shown as plain text"]


@pytest.mark.parametrize("front", ["- a\n- b\n", "just text\n", "42\n"])
def test_front_matter_that_is_not_a_mapping_is_an_error(front):
    assert problem(front).message == "front matter must be a mapping of 'key: value' lines"


# --- 3. what kb check accepted: errors block the file, warnings print ---------------------------
def test_every_error_of_a_file_is_reported_in_line_order():
    error = problem("title: T\ncategory: nope\nlanguage: ru\ntags: not a list\nurls: /login\n"
                    "sumary: typo\n", categories=CATEGORIES)
    assert [str(e) for e in error.every] == [
        "en/x.md:3: unknown category 'nope': one of account, billing",
        "en/x.md:4: language 'ru' in the folder en/: move the file to ru/ or fix the language",
        "en/x.md:5: 'tags' must be a list of strings: write tags: [not a list]",
        "en/x.md:6: 'urls' must be a list of strings: write urls: [/login]"]
    assert [str(w) for w in error.warnings] == [
        "en/x.md:7: warning: unknown key 'sumary' (did you mean 'summary'?): it is ignored"]


def test_warnings_do_not_stop_the_article():
    article = parse("title: T\nsumary: typo\nfoo: bar\n", categories=CATEGORIES)
    assert [str(w) for w in article.warnings] == [
        "en/x.md:1: warning: no 'category': filed under 'account'",
        "en/x.md:3: warning: unknown key 'sumary' (did you mean 'summary'?): it is ignored",
        "en/x.md:4: warning: unknown key 'foo': it is ignored"]
    assert article.category == "account"


def test_without_categories_any_category_and_general_by_default():
    assert parse("title: T\n").category == "general" and not parse("title: T\n").warnings
    assert parse("title: T\ncategory: anything\n").category == "anything"


def test_the_editor_and_the_files_refuse_an_unknown_category_with_one_message(articles_dir):
    from authoring_helpers import form
    from kb_server.authoring.fields import AuthoringError, from_form
    categories = json.dumps(sorted(load_categories_of(articles_dir)))
    with pytest.raises(AuthoringError) as caught:
        from_form(form(category="nope"), str(articles_dir))
    write_article(articles_dir, "en", "x", "X", "Body", category="nope")
    _, errors = load_articles(articles_dir)
    assert [e.message for e in errors] == [caught.value.message]
    assert caught.value.message.startswith("unknown category 'nope': one of ") and categories


def load_categories_of(articles_dir):
    from indexer.articles.categories import load_categories
    return load_categories(articles_dir)


# --- 6. messages --------------------------------------------------------------------------------
def test_front_matter_without_its_closing_line_says_so():
    with pytest.raises(ArticleError) as caught:
        parse_article("---\ntitle: T\n\nBody.\n", "en/x.md", "en")
    assert caught.value.message == "front matter not closed: add a '---' line after its last 'key: value' line"
    with pytest.raises(ArticleError) as caught:
        parse_article("# Title\n", "en/x.md", "en")
    assert caught.value.message == "missing YAML front matter (the file must start with '---')"


# --- kb check ------------------------------------------------------------------------------------
@pytest.fixture
def trial_kb(tmp_path):
    """The fixture knowledge base with what the new-user trial wrote into it."""
    kb = tmp_path / "trial"
    shutil.copytree(FIXTURE_KB, kb)
    (kb / "en" / "x.md").write_text(BAD_DATE, encoding="utf-8")
    (kb / "en" / "broken-dupslug.md").write_text(DUPLICATE, encoding="utf-8")
    (kb / "en" / "unclosed.md").write_text("---\ntitle: Unclosed\n\nBody\n", encoding="utf-8")
    (kb / "en" / "latin1.md").write_bytes("---\ntitle: Caf\xe9\n---\nx\n".encode("latin-1"))
    (kb / "en" / "links.md").write_text(
        "---\ntitle: Links\ncategory: account\nsumary: typo\n---\n"
        "See [limits](reset-password.md) and [gone](/a/en/does-not-exist).\n\n"
        "[here](#no-such-heading), [there](two-factor#no-such-heading), ![shot](img/x.png)\n\n"
        "```\n[in code](nope.md)\n```\n", encoding="utf-8")
    return kb


def test_check_reports_every_broken_file_and_warning_and_fails(runner, trial_kb):
    result = runner.invoke(main, ["check", str(trial_kb)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "en/broken-dupslug.md:3: duplicate slug 'reset-password' in language 'en' (already used by en/reset-password.md)",
        "en/latin1.md:2: file is not valid UTF-8",
        "en/links.md:4: warning: unknown key 'sumary' (did you mean 'summary'?): it is ignored",
        "en/links.md:6: warning: link to a missing article: /a/en/does-not-exist",
        "en/links.md:8: warning: link to a missing heading: #no-such-heading (no #no-such-heading in en/links)",
        "en/links.md:8: warning: link to a missing heading: two-factor#no-such-heading "
        "(no #no-such-heading in en/two-factor)",
        f"en/links.md:8: warning: missing image: img/x.png (no file {trial_kb}/en/img/x.png)",
        "en/unclosed.md:1: front matter not closed: add a '---' line after its last 'key: value' line",
        "en/x.md:3: invalid date '2026-13-45': month must be in 1..12"]
    assert result.stdout == "10 articles ok, 4 files with errors, 5 warnings\n"


def test_check_of_a_folder_without_articles_fails(runner, tmp_path):
    (tmp_path / "docs").mkdir()
    result = runner.invoke(main, ["check", str(tmp_path / "docs")])
    assert result.exit_code == 1
    assert "no articles found in" in result.stderr and "ok" not in result.stdout


def test_check_of_one_file_counts_in_the_singular_and_checks_its_own_links(runner, trial_kb):
    result = runner.invoke(main, ["check", str(trial_kb / "en" / "links.md")])
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 article ok, 0 files with errors, 3 warnings\n"
    assert "does-not-exist" not in result.stderr      # the other articles are not known here


def test_index_skips_the_broken_files_and_indexes_the_others(app, runner, trial_kb):
    app.config["ARTICLES_DIR"] = str(trial_kb)
    result = runner.invoke(main, ["index", "--keyword-only"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "skipped en/x.md:3: invalid date '2026-13-45': month must be in 1..12" in result.stderr
    assert client_of(app).get("/a/en/links").status_code == 200


def client_of(app):
    return app.test_client()


# --- 1, 2. the file sync (kb serve every few seconds, kb sync-files) ----------------------------
def _kb_article(slug: str) -> KbArticle | None:
    return db.session.scalar(db.select(KbArticle).filter_by(language="en", slug=slug))


def test_a_bad_date_does_not_stop_the_sync_of_the_other_files_and_health_names_it(app, runner, client):
    kb = Path(app.config["ARTICLES_DIR"])
    with app.app_context():
        files.sync_from_files(kb)
    (kb / "en" / "x.md").write_text(BAD_DATE, encoding="utf-8")
    reset = kb / "en" / "reset-password.md"
    reset.write_text(reset.read_text(encoding="utf-8").replace("title: Reset your password",
                                                               "title: Reset a password"), encoding="utf-8")
    result = runner.invoke(main, ["sync-files"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "skipped en/x.md:3: invalid date '2026-13-45': month must be in 1..12" in result.stderr
    assert "1 changed" in result.stdout
    with app.app_context():
        assert store_title(_kb_article("reset-password")) == "Reset a password"
    health = client.get("/api/v1/health").get_json()
    assert health["ok"] is False
    assert health["articles_sync"]["errors"] == ["en/x.md:3: invalid date '2026-13-45': month must be in 1..12"]
    (kb / "en" / "x.md").write_text(BAD_DATE.replace("2026-13-45", "2026-01-05"), encoding="utf-8")
    assert runner.invoke(main, ["sync-files"]).exit_code == 0
    health = client.get("/api/v1/health").get_json()
    assert health["articles_sync"] is None and health["ok"] is True


def store_title(article: KbArticle) -> str:
    from kb_server.authoring import store
    return store.latest(article).title


def test_a_duplicate_slug_is_refused_and_the_real_article_stays(app, client):
    kb = Path(app.config["ARTICLES_DIR"])
    with app.app_context():
        files.sync_from_files(kb)
        original = (_kb_article("reset-password").file_path, store_title(_kb_article("reset-password")))
    (kb / "en" / "broken-dupslug.md").write_text(DUPLICATE, encoding="utf-8")
    with app.app_context():
        report = files.sync_from_files(kb)
        assert report.updated == [] and report.imported == []
        assert report.errors == ["en/broken-dupslug.md:3: duplicate slug 'reset-password' in language "
                                 "'en' (already used by en/reset-password.md)"]
        article = _kb_article("reset-password")
        assert (article.file_path, store_title(article)) == original
    assert client.get("/api/v1/health").get_json()["articles_sync"]["errors"] == report.errors
    (kb / "en" / "broken-dupslug.md").unlink()
    with app.app_context():
        report = files.sync_from_files(kb)
        assert report.archived == [] and _kb_article("reset-password").state != "archived"
    assert client.get("/a/en/reset-password").status_code == 200


def test_a_new_duplicate_sorting_first_does_not_win_the_first_import(app):
    kb = Path(app.config["ARTICLES_DIR"])
    (kb / "en" / "a-copy.md").write_text(DUPLICATE, encoding="utf-8")      # sorts before reset-password.md
    with app.app_context():
        report = files.sync_from_files(kb)
        assert "en/reset-password.md" in report.imported and "en/a-copy.md" not in report.imported
        assert _kb_article("reset-password").file_path == "en/reset-password.md"
        assert any(error.startswith("en/a-copy.md:3: duplicate slug") for error in report.errors)


def test_a_renamed_file_keeps_its_article(app):
    kb = Path(app.config["ARTICLES_DIR"])
    with app.app_context():
        files.sync_from_files(kb)
    (kb / "en" / "reset-password.md").rename(kb / "en" / "password-reset.md")
    text = (kb / "en" / "password-reset.md").read_text(encoding="utf-8")
    assert "slug: reset-password" in text
    with app.app_context():
        report = files.sync_from_files(kb)
        assert report.errors == [] and report.archived == []
        assert _kb_article("reset-password").file_path == "en/password-reset.md"


def test_a_non_utf8_file_gets_the_same_message_from_the_sync_as_from_check(app):
    kb = Path(app.config["ARTICLES_DIR"])
    (kb / "en" / "latin1.md").write_bytes("---\ntitle: Caf\xe9\n---\nx\n".encode("latin-1"))
    with app.app_context():
        assert files.sync_from_files(kb).errors == ["en/latin1.md:2: file is not valid UTF-8"]


# --- 4, 5. links and images between files -------------------------------------------------------
def _html(body: str, path: str = "en/guide/x.md") -> str:
    return parse_article(f"---\ntitle: T\nlanguage: en\n---\n{body}\n", path).html


@pytest.mark.parametrize("markdown, url", [
    ("[a](api-rate-limits.md)", '<a href="/a/en/api-rate-limits"'),
    ("[a](api-rate-limits.md#per-key)", '<a href="/a/en/api-rate-limits#per-key"'),
    ("[a](../ru/reset-password.md)", '<a href="/a/ru/reset-password"'),
    ("[a](other-article#heading)", '<a href="/a/en/other-article#heading"'),
    ("[a](#heading)", '<a href="#heading"'),
    ("[a](/a/en/x)", '<a href="/a/en/x"'),
    ("[a](https://example.com/x.md)", '<a href="https://example.com/x.md"'),
    ("![s](img/shot.png)", '<img alt="s" src="/files/en/img/shot.png"'),
    ("![s](../media/logo%20big.png)", '<img alt="s" src="/files/media/logo%20big.png"'),
    ("![s](../../../etc/x.png)", '<img alt="s" src="../../../etc/x.png"'),
])
def test_relative_links_and_images_become_help_center_urls(markdown, url):
    assert url in _html(markdown, "en/x.md")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    kb = tmp_path_factory.mktemp("images")
    shutil.copytree(FIXTURE_KB, kb, dirs_exist_ok=True)
    (kb / "en" / "img").mkdir()
    (kb / "en" / "img" / "shot.png").write_bytes(png())
    (kb / "media").mkdir()
    (kb / "media" / "logo.png").write_bytes(png(2, 2))
    (kb / "media" / "big.png").write_bytes(png() + bytes(20_000))
    (kb / "media" / "fake.png").write_bytes(b"<script>alert(1)</script>")
    (kb / "media" / "notes.txt").write_text("secret", encoding="utf-8")
    (kb / ".git").mkdir()
    (kb / ".git" / "x.png").write_bytes(png())
    return kb


def test_check_finds_the_images_that_exist(images):
    write_article(images, "en", "shots", "Shots", "![a](img/shot.png) ![b](/media/logo.png) "
                  "![c](img/none.png) ![d](/media/none.png) ![e](../media/notes.txt)", category="account")
    try:
        articles, _ = load_articles(images)
        warnings = [w.message for w in check_links(articles, images, max_image_bytes=10_000)]
    finally:
        (images / "en" / "shots.md").unlink()
    assert warnings == [f"missing image: img/none.png (no file {images}/en/img/none.png)",
                        f"missing image: /media/none.png (no file {images}/media/none.png)",
                        "image ../media/notes.txt: only .png, .jpg, .jpeg, .gif, .webp files are served"]


@pytest.mark.parametrize("url, status", [
    ("/files/en/img/shot.png", 200),
    ("/files/media/logo.png", 200),
    ("/media/logo.png", 200),                       # no upload by that name: the folder's media/
    ("/files/media/big.png", 404),                  # over UPLOAD_MAX_BYTES
    ("/files/media/fake.png", 404),                 # not an image by its bytes
    ("/files/media/notes.txt", 404),
    ("/files/en/reset-password.md", 404),
    ("/files/categories.yml", 404),
    ("/files/../articles/media/logo.png", 404),
    ("/files/media/..%2F..%2Fetc%2Fpasswd", 404),
    ("/files/%2E%2E/x.png", 404),
    ("/files/.git/x.png", 404),
    ("/media/..%2Fmedia%2Flogo.png", 404),
])
def test_images_of_the_articles_folder_are_served_safely(app, images, url, status):
    app.config.update(ARTICLES_DIR=str(images), UPLOAD_MAX_BYTES=10_000)
    response = app.test_client().get(url)
    assert response.status_code == status, url
    if status == 200:
        assert response.mimetype == "image/png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.data.startswith(b"\x89PNG")


# --- 7. feedback ---------------------------------------------------------------------------------
@pytest.mark.parametrize("article_id", ["en/nope", "nope", "en/draft-plans", "en/internal-refunds"])
def test_feedback_on_an_article_the_help_center_does_not_show_is_404_and_no_ticket(app, client, article_id):
    response = client.post("/api/v1/feedback", json={"session_id": "s1", "article_id": article_id,
                                                     "helpful": False, "query": "two fac"})
    assert response.status_code == 404
    assert response.get_json()["field"] == "article_id" and article_id in response.get_json()["error"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Ticket)) == 0


def test_feedback_on_a_published_article_is_taken(client):
    response = client.post("/api/v1/feedback", json={"session_id": "s1", "article_id": "en/two-factor",
                                                     "helpful": True})
    assert response.status_code == 201


def test_not_helpful_takes_the_sessions_search_only_if_it_offered_the_article(app, client):
    from tickets_helpers import gap_tickets, search
    search(client, "s1", "two fac", ["en/two-factor"])
    client.post("/api/v1/feedback", json={"session_id": "s1", "article_id": "en/reset-password",
                                          "helpful": False, "reason": "unclear"})
    client.post("/api/v1/feedback", json={"session_id": "s1", "article_id": "en/two-factor",
                                          "helpful": False, "reason": "unclear"})
    subjects = sorted(gap["subject"] for gap in gap_tickets(app))
    assert subjects == ['1 user found article en/reset-password not helpful',
                        '1 user searched "two fac" and found the answer not helpful']


def test_the_sync_logs_a_broken_file_once_not_at_every_run(app, caplog):
    kb = Path(app.config["ARTICLES_DIR"])
    (kb / "en" / "x.md").write_text(BAD_DATE, encoding="utf-8")
    with app.app_context(), caplog.at_level("INFO", logger="kb_server.authoring.files"):
        for _ in range(3):
            files.sync_from_files(kb)
        (kb / "en" / "x.md").unlink()
        files.sync_from_files(kb)
    messages = [record.getMessage() for record in caplog.records]
    assert [m for m in messages if "en/x.md:3: invalid date" in m] == [
        "article files skipped (fix them; the others are synced):\n"
        "en/x.md:3: invalid date '2026-13-45': month must be in 1..12"]
    assert messages[-1] == "article file sync: no broken files any more"


def test_the_editor_preview_resolves_relative_links_and_images_as_the_help_center(app):
    from authoring_helpers import cheap_passwords, staff_client  # noqa: F401
    editor = staff_client(app, "editor")
    body = "[limits](api-rate-limits.md#per-key) ![shot](img/shot.png)"
    html = editor.post("/console/articles/preview",
                       json={"body": body, "language": "en", "slug": "guide"}).get_json()["html"]
    assert 'href="/a/en/api-rate-limits#per-key"' in html and 'src="/files/en/img/shot.png"' in html
    html = editor.post("/console/articles/preview", json={"body": body}).get_json()["html"]
    assert 'href="api-rate-limits.md#per-key"' in html        # no article to resolve them for

