"""The same models, migrations and ticket flow on a real PostgreSQL, and PostgreSQL's
full-text search as the peer of ``kb eval --peer postgres``."""
from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from indexer.peer_postgres import PostgresFTS
from kb_server import create_app, pgcluster
from kb_server.cli import main
from kb_server.extensions import db
from kb_server.pgcluster import ClusterUnavailable
from conftest import app_config
from tests.staff_helpers import add_staff, bearer
from tests.tickets_helpers import post

BEIR_TINY = Path(__file__).parent / "fixtures" / "beir_tiny"


def _tables(url: str) -> set[str]:
    return set(sa.inspect(sa.create_engine(url)).get_table_names())


def test_migration_chain_builds_the_models_schema_on_postgres(tmp_path, postgres_url):
    app = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=postgres_url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        assert {"ticket", "event", "site"} <= _tables(postgres_url)
        downgrade(revision="base")
        db.engine.dispose()
    assert _tables(postgres_url) <= {"alembic_version"}


def test_contact_becomes_a_ticket_on_postgres(tmp_path, postgres_url):
    app = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=postgres_url))
    assert app.test_cli_runner().invoke(main, ["init"]).exit_code == 0
    with app.app_context():
        staff = bearer(add_staff("agent@example.com", "agent", line=1))
    client = app.test_client()
    response = post(client, "contact", {"session_id": "s1", "email": "olga@example.com",
                                        "message": "Не приходит счёт на почту",
                                        "language": "ru"})
    assert response.status_code == 201, response.get_json()
    reference = response.get_json()["ticket"]["reference"]
    ticket = client.get(f"/api/v1/tickets/{reference}", headers=staff).get_json()["ticket"]
    assert ticket["language"] == "ru" and ticket["line"] == 1
    with app.app_context():
        db.engine.dispose()



def test_not_helpful_counts_and_todays_checkpoint_on_postgres(tmp_path, postgres_url):
    import datetime as dt
    from kb_server.analytics import today
    from kb_server.authoring import listing
    from kb_server.models import Event, KbArticle, utcnow
    app = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=postgres_url))
    assert app.test_cli_runner().invoke(main, ["init"]).exit_code == 0
    now = utcnow()
    with app.app_context():
        db.session.add(KbArticle(translation_key="a", language="en", slug="a",
                                 published_at=now - dt.timedelta(hours=1)))
        db.session.add_all(Event(kind="feedback", session_id="s", article_id=article, data=data,
                                 created_at=now - dt.timedelta(hours=hours))
                           for article, data, hours in [("en/a", {"helpful": False}, 0),
                                                        ("en/a", {"helpful": False}, 2),
                                                        ("en/a", {"helpful": True}, 0),
                                                        ("en/b", {"helpful": False}, 0)])
        db.session.commit()
        assert listing.not_helpful_counts() == {"en/a": 1, "en/b": 1}
        today.advance(now.date(), now=now + dt.timedelta(hours=2))
        assert today.load(now.date()) is not None
        db.engine.dispose()


CORPUS = [
    {"_id": "en-pass", "title": "Reset your password", "text": "Request a reset link by email."},
    {"_id": "en-bill", "title": "Invoices", "text": "Download invoices and receipts as PDF; "
                                                    "each password-protected."},
    {"_id": "ru-pass", "title": "Сброс пароля", "text": "Запросите ссылку для сброса пароля."},
]


def test_peer_stems_per_language_ors_terms_and_ranks_titles_first(postgres_url):
    peer = PostgresFTS(CORPUS, postgres_url)
    try:
        ids, matched = peer.search("passwords resetting")
        assert ids[0] == "en-pass" and matched == 2   # OR: the invoice page matches once
        assert peer.search("пароли")[0] == ["ru-pass"]   # Russian stemming
        assert peer.search("the of and") == ([], 0)      # only stop words: no query, no error
    finally:
        peer.close()
    assert "kb_peer_documents" not in _tables(postgres_url)


def test_kb_eval_peer_postgres_reports_side_by_side(tmp_path, postgres_url):
    app = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=postgres_url))
    result = app.test_cli_runner().invoke(
        main, ["eval", str(BEIR_TINY), "--mode", "keyword", "--peer", "postgres", "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    assert metrics["ndcg@10"] > 0.5
    assert 0.5 < metrics["peer_postgres_ndcg@10"] <= 1.0
    assert metrics["peer_postgres_mean_ms"] > 0 and metrics["peer_postgres_p95_ms"] > 0


def test_kb_eval_peer_without_postgresql_says_what_is_missing(app, monkeypatch):
    def missing():
        raise ClusterUnavailable("PostgreSQL is not installed: initdb and pg_ctl were not found")
    monkeypatch.setattr(pgcluster, "bin_dir", missing)
    result = app.test_cli_runner().invoke(
        main, ["eval", str(BEIR_TINY), "--mode", "plain", "--peer", "postgres"])
    assert result.exit_code == 1 and "PostgreSQL is not installed" in result.output
