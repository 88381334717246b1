"""Alembic migrations build exactly the schema the models declare, and the commands run them."""
from __future__ import annotations

import sqlite3

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from kb_server import create_app
from kb_server.cli import main
from kb_server.extensions import db
from conftest import app_config


def _fresh_app(tmp_path):
    return create_app(app_config(tmp_path))


def test_migrations_produce_the_models_schema(tmp_path):
    app = _fresh_app(tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []


def test_a_model_change_without_a_migration_is_caught(tmp_path):
    app = _fresh_app(tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP INDEX ix_event_kind")
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert any(change[0] == "add_index" and change[1].name == "ix_event_kind" for change in diff)


def test_downgrade_removes_every_table(tmp_path):
    app = _fresh_app(tmp_path)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
    tables = {row[0] for row in sqlite3.connect(tmp_path / "test.db").execute(
        "SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables <= {"alembic_version"}


def test_create_app_creates_no_tables(tmp_path):
    _fresh_app(tmp_path)
    assert not (tmp_path / "test.db").exists() or not sqlite3.connect(tmp_path / "test.db").execute(
        "SELECT name FROM sqlite_master WHERE type='table'").fetchall()


def test_kb_init_upgrades_the_database_and_creates_the_demo_site(tmp_path):
    app = _fresh_app(tmp_path)
    result = app.test_cli_runner().invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    assert "demo site" in result.output
    rows = sqlite3.connect(tmp_path / "test.db").execute("SELECT key FROM site").fetchall()
    assert rows == [("demo",)]
    again = app.test_cli_runner().invoke(main, ["init"])
    assert again.exit_code == 0 and "demo site" not in again.output


def test_kb_db_upgrade_is_the_alembic_command(tmp_path):
    app = _fresh_app(tmp_path)
    result = app.test_cli_runner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    version = sqlite3.connect(tmp_path / "test.db").execute(
        "SELECT version_num FROM alembic_version").fetchall()
    assert version == [(_head(),)]


def _head() -> str:
    """The newest revision of the migration scripts (a single head: one chain)."""
    from alembic.script import ScriptDirectory
    from kb_server.extensions import MIGRATIONS_DIR
    (head,) = ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()
    return head
