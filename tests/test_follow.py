"""The shared knowledge base in one process (SQLite stands for the shared database): what
publishing and the file sync record, a follower catching up and serving it, readiness, and
passage vectors shared by hash and model. tests/test_multinode.py runs real nodes on PostgreSQL."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from authoring_helpers import cheap_passwords, form, staff_client  # noqa: F401
from conftest import app_config
from kb_server import create_app, follow, metrics, search, shared_kb, shared_vectors
from kb_server.authoring import files, publishing
from kb_server.cli import main
from kb_server.extensions import db
from kb_server.models import KbArticle, PassageVector, PublishedFile
from test_embedding_cache import FakeEmbedder
from test_serve import _wait_for

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


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def test_the_images_of_the_articles_folder_reach_every_node(app, tmp_path):
    """Docs-as-code articles show images from the articles folder (``/files/...``): a node
    that follows gets them from the database like the article files, and later changes,
    additions and deletions on the node that has them too."""
    folder = files.Path(app.config["ARTICLES_DIR"])
    (folder / "en" / "img").mkdir()
    (folder / "en" / "img" / "screen.png").write_bytes(PNG)
    (folder / "media").mkdir()
    (folder / "media" / "logo.png").write_bytes(PNG + b"logo")
    (folder / "media" / "notes.txt").write_text("not an image")
    follow.Follower(app).catch_up()                  # node A, the first: records its folder
    with app.app_context():
        db.session.add(PublishedFile(path="../outside.png", data=PNG, content_hash="x", generation=1))
        db.session.commit()
    rows = _rows(app)
    assert rows["en/img/screen.png"].data == PNG and rows["en/img/screen.png"].content == ""
    assert "media/notes.txt" not in rows

    node = _follower_app(app, tmp_path)
    follower = follow.Follower(node)
    follower.catch_up()
    copy = tmp_path / "node-b" / "articles"
    assert (copy / "media" / "logo.png").read_bytes() == PNG + b"logo"
    assert not (tmp_path / "node-b" / "outside.png").exists()
    served = node.test_client().get("/files/en/img/screen.png")
    assert served.status_code == 200 and served.data == PNG

    (folder / "en" / "img" / "screen.png").write_bytes(PNG + b"v2")     # changed on node A
    (folder / "en" / "img" / "new.png").write_bytes(PNG + b"new")
    (folder / "media" / "logo.png").unlink()
    with app.app_context():
        report = files.sync_from_files(folder, followed=True)
        db.session.commit()
    assert sorted(report.images) == ["en/img/new.png", "en/img/screen.png", "media/logo.png"]
    follower.catch_up()
    assert (copy / "en" / "img" / "screen.png").read_bytes() == PNG + b"v2"
    assert (copy / "en" / "img" / "new.png").read_bytes() == PNG + b"new"
    assert not (copy / "media" / "logo.png").exists()
    with node.app_context():     # B's own sync takes what its follower wrote for known
        assert files.sync_from_files(copy, followed=True).images == []


def test_a_first_node_serves_its_own_records_and_applies_a_change_recorded_meanwhile(
        app, monkeypatch):
    """The first catch-up of a node with files (a first node): the generation served includes
    what it recorded itself, so the next catch-up has nothing to apply (no second reindex, no
    second embedding); a file another node recorded between its read and its record is written
    here, not recorded as deleted."""
    other = ("---\ntitle: Cluster note\nslug: cluster-note\nlanguage: en\ncategory: account\n"
             "summary: From another node.\n---\nThe quasarflux setting.\n").encode()
    record_folder = shared_kb.record_folder

    def another_node_first(articles_dir, seen=None):
        shared_kb.record("en/cluster-note.md", other)
        db.session.commit()
        return record_folder(articles_dir, seen)
    monkeypatch.setattr(shared_kb, "record_folder", another_node_first)
    follower = follow.Follower(app)
    follower.catch_up()
    with app.app_context():
        assert follower.served == shared_kb.generation() > 0
    assert (files.Path(app.config["ARTICLES_DIR"]) / "en" / "cluster-note.md").read_bytes() == other
    assert not _rows(app)["en/cluster-note.md"].deleted
    assert app.test_client().get("/api/v1/search?q=quasarflux").get_json()["hits"]

    reindexed = []
    monkeypatch.setattr(publishing, "refresh_index", lambda: reindexed.append(True))
    assert follower.catch_up() == 0 and reindexed == []


class GatedEmbedder(FakeEmbedder):
    """Embeds once ``gate`` is set; ``most``: the most runs that were embedding at once."""

    def __init__(self):
        super().__init__()
        self.gate, self.lock = threading.Event(), threading.Lock()
        self.inside = self.most = 0
        self.passages: list[str] = []       # (``embedded`` holds the probe queries as well)

    def embed_passages(self, texts):
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        self.gate.wait(30)
        self.passages += texts
        try:
            return super().embed_passages(texts)
        finally:
            with self.lock:
                self.inside -= 1


def test_an_embedding_run_during_the_background_embedding_waits_and_embeds_nothing_again(app):
    model = GatedEmbedder()
    semantic = app.extensions["semantic"]
    semantic.embedder, semantic.state = model, "ready"
    app.extensions["search"].attach_embedder(model)
    background = search.embed_in_background(app)
    assert _wait_for(lambda: model.inside, 30)          # kb serve's first embedding is under way
    with app.app_context():
        publishing.refresh_index()       # a catch-up or a publish meanwhile: embeds after it
        assert not publishing.embed_missing()          # the file sync leaves it to the run
    _wait_for(lambda: model.most > 1, 1)     # (a second run embedding at once is the failure)
    model.gate.set()
    background.join(30)
    for thread in threading.enumerate():
        if thread.name == "embed-published":
            thread.join(30)
    assert model.most == 1 and model.passages
    assert len(model.passages) == len(set(model.passages))
    with app.app_context():
        vectors = search.service().health()["vectors"]
    assert vectors["articles"] == vectors["of"] > 0


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


def _node_on(app, tmp_path, articles: str, **settings):
    """Another node on the first one's database whose articles folder is ``articles``
    (not followed: the console's list and `kb serve` on SQLite sync without following)."""
    root = tmp_path / "node-c"
    return create_app(app_config(root, ARTICLES_DIR=str(root / articles),
                                 SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                 **settings))


def _archived(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(KbArticle)
                                 .where(KbArticle.state == "archived"))


@pytest.mark.parametrize("folder", ["missing", "empty"])
def test_a_file_sync_refuses_to_archive_most_articles_until_an_operator_confirms(
        app, tmp_path, folder, caplog):
    with app.app_context():        # an upgraded instance: articles with files, none recorded
        files.sync_from_files(app.config["ARTICLES_DIR"])
        db.session.execute(db.delete(PublishedFile))
        db.session.commit()
    node = _node_on(app, tmp_path, "articles")
    if folder == "empty":
        (tmp_path / "node-c" / "articles").mkdir()
    with node.app_context():
        report = files.sync_from_files(node.config["ARTICLES_DIR"])
    assert report.archived == [] and _archived(app) == 0
    assert node.config["ARTICLES_DIR"] in report.refused and f"is {folder}" in report.refused
    assert node.config["ARTICLES_DIR"] in caplog.text
    health = node.test_client().get("/api/v1/health").get_json()
    assert not health["ok"] and health["articles_sync"]["refused"] == report.refused
    assert _count_rows(node) == 0      # nothing recorded as deleted for the other nodes

    result = node.test_cli_runner().invoke(main, ["sync-files"])
    assert result.exit_code == 1 and _archived(app) == 0
    result = node.test_cli_runner().invoke(main, ["sync-files", "--confirm-removal"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _archived(app) == db.session.scalar(db.select(db.func.count())
                                                   .select_from(KbArticle)) > 0
    assert node.test_client().get("/api/v1/health").get_json()["articles_sync"] is None


def test_the_share_of_articles_a_file_sync_may_archive_is_a_setting(app, tmp_path):
    folder = files.Path(app.config["ARTICLES_DIR"])
    with app.app_context():
        files.sync_from_files(folder)
        total = db.session.scalar(db.select(db.func.count()).select_from(KbArticle))
    for path in sorted(folder.glob("*/*.md"))[: total // 2 + 1]:     # just over half
        path.unlink()
    with app.app_context():
        assert files.sync_from_files(folder).refused and _archived(app) == 0
    app.config["SYNC_MAX_ARCHIVE_SHARE"] = 0.9
    with app.app_context():
        report = files.sync_from_files(folder)
    assert not report.refused and len(report.archived) == total // 2 + 1 == _archived(app)


def test_a_node_started_empty_on_an_upgraded_instance_takes_no_article_off(app, tmp_path):
    """The hazard the guard is for: no recorded files, so the follower writes none, and the
    console's articles list syncs the empty folder."""
    with app.app_context():
        files.sync_from_files(app.config["ARTICLES_DIR"])
        db.session.execute(db.delete(PublishedFile))
        db.session.commit()
    node = _follower_app(app, tmp_path)
    follow.Follower(node).catch_up()
    assert staff_client(node, "editor").get("/console/articles").status_code == 200
    assert _archived(app) == 0
    assert "is empty" in node.test_client().get("/api/v1/health").get_json()[
        "articles_sync"]["refused"]


def _count_rows(app) -> int:
    return len(_rows(app))
