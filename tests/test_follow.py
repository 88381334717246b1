"""The shared knowledge base in one process (SQLite stands for the shared database): what
publishing and the file sync record, a follower catching up and serving it, readiness, and
passage vectors shared by hash and model. tests/test_multinode.py runs real nodes on PostgreSQL."""
from __future__ import annotations

import numpy as np

from authoring_helpers import cheap_passwords, form, staff_client  # noqa: F401
from conftest import app_config
from kb_server import create_app, follow, metrics, shared_kb, shared_vectors
from kb_server.authoring import files
from kb_server.extensions import db
from kb_server.models import PassageVector, PublishedFile
from test_embedding_cache import FakeEmbedder

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}


def _rows(app) -> dict[str, PublishedFile]:
    with app.app_context():
        return {row.path: row for row in db.session.scalars(db.select(PublishedFile))}


def _follower_app(app, tmp_path):
    """A second node on the first one's database, with an empty articles folder."""
    root = tmp_path / "node-b"
    (root / "articles").mkdir(parents=True)
    return create_app(app_config(root, FOLLOW_DATABASE=True,
                                 SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]))


def test_following_is_on_by_default_for_postgresql_only():
    assert shared_kb.followed({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://h/kb"})
    assert not shared_kb.followed({"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db"})
    assert shared_kb.followed({"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db", "FOLLOW_DATABASE": True})
    assert not shared_kb.followed({"SQLALCHEMY_DATABASE_URI": "postgresql://h/kb",
                               "FOLLOW_DATABASE": False})


def test_the_folder_publishing_and_the_file_sync_are_recorded_with_new_generations(app):
    folder = app.config["ARTICLES_DIR"]
    with app.app_context():
        assert shared_kb.record_folder(folder) > 0 and shared_kb.record_folder(folder) == 0
        seeded = shared_kb.generation()
    rows = _rows(app)
    assert seeded == 1 and {row.generation for row in rows.values()} == {1}   # one transaction
    assert {"categories.yml", "synonyms.txt", "en/reset-password.md"} <= set(rows)
    assert rows["en/reset-password.md"].content_hash == files.disk_hash(
        files.Path(folder) / "en" / "reset-password.md")

    staff_client(app, "editor").post("/console/articles", data=form(action="publish"))
    row = _rows(app)["en/export-data.md"]
    assert row.generation > seeded and "Export everything" in row.content

    (files.Path(folder) / "en" / "export-data.md").unlink()
    with app.app_context():
        files.sync_from_files(folder)
        assert shared_kb.generation() == row.generation + 1
    assert _rows(app)["en/export-data.md"].deleted


def test_a_follower_writes_the_shared_files_indexes_them_and_follows_changes(app, tmp_path):
    with app.app_context():
        shared_kb.record_folder(app.config["ARTICLES_DIR"])
        db.session.add(PublishedFile(path="../outside.md", content="x", content_hash="x",
                                     generation=1))
        db.session.commit()
    node = _follower_app(app, tmp_path)
    client = node.test_client()
    assert client.get("/readyz").status_code == 503           # no index, not caught up
    assert client.get("/readyz").get_json()["checks"]["caught_up"] is False

    follower = follow.Follower(node)
    assert follower.listener is None                           # SQLite: polling only
    assert follower.catch_up() > 0
    assert client.get("/readyz").status_code == 200
    hits = client.get("/api/v1/search?q=reset+password").get_json()["hits"]
    assert hits[0]["slug"] == "reset-password"
    assert not (tmp_path / "node-b" / "outside.md").exists()

    staff_client(app, "editor").post("/console/articles", data=form(action="publish"))
    assert client.get("/api/v1/health").get_json()["following"]["lag"] > 0
    with node.app_context():      # B's file sync before its follower wrote the new file
        assert not files.sync_from_files(node.config["ARTICLES_DIR"], followed=True).changed
    assert follower.catch_up() == 1
    assert client.get("/api/v1/search?q=export").get_json()["hits"][0]["slug"] == "export-data"
    following = client.get("/api/v1/health").get_json()["following"]
    assert following["caught_up"] and following["lag"] == 0
    assert following["generation_served"] == following["generation_seen"]
    scraped = client.get("/metrics", environ_base=LOOPBACK).get_data(as_text=True)
    assert f"kb_index_generation {following['generation_served']:.1f}" in scraped
    assert "kb_index_generation_lag 0.0" in scraped


def _count(source: str) -> float:
    return metrics.PASSAGE_VECTORS.labels(source)._value.get()


def test_passage_vectors_are_read_from_the_shared_store_before_the_model_embeds(app):
    shared_before, computed_before = _count("shared"), _count("computed")
    model_a, model_b = FakeEmbedder(), FakeEmbedder()
    with app.app_context():
        first = shared_vectors.wrap(model_a).embed_passages(["alpha", "beta", "alpha"])
        again = shared_vectors.wrap(model_b).embed_passages(["beta", "alpha", "gamma"])
        shared_vectors.wrap(model_b).embed_queries(["alpha"])
        other = FakeEmbedder("another-model")
        shared_vectors.wrap(other).embed_passages(["alpha"])
        stored = db.session.scalar(db.select(db.func.count()).select_from(PassageVector))
    assert model_a.embedded == ["alpha", "beta"]
    assert model_b.embedded == ["gamma", "alpha"]       # only the new passage; queries unshared
    assert np.array_equal(again[:2], first[[1, 0]])
    assert other.embedded == ["alpha"] and stored == 4
    assert _count("shared") - shared_before == 2
    assert _count("computed") - computed_before == 2 + 1 + 1
