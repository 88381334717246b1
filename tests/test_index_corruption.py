"""A broken index degrades instead of failing: the last good generation serves, or search says
it is unavailable (503 JSON with a reason); health tells the truth; restoring or rebuilding
recovers without a restart."""
from __future__ import annotations

import shutil

import pytest

from indexer import search as search_module
from indexer.generation import IndexFolder
from indexer.index import build_index
from indexer.search import SearchService, SearchUnavailable
from search_helpers import ids, write_article


@pytest.fixture(autouse=True)
def retry_at_once(monkeypatch):
    monkeypatch.setattr(search_module, "RETRY_SECONDS", 0.0)


def _junk(path):
    path.write_bytes(b"\x00junk{{{" * 50)


def _segment(generation):
    return next(generation.whoosh.glob("*.seg"))


def test_a_junk_catalog_with_nothing_to_fall_back_on_is_a_clear_503(app, client):
    generation = IndexFolder(app.config["INDEX_DIR"]).current()
    app.extensions["search"].__init__(app.config["INDEX_DIR"])    # as at a server start
    _junk(generation.catalog)
    app.extensions["search"].__init__(app.config["INDEX_DIR"])
    api = client.get("/api/v1/search?q=reset+password")
    assert api.status_code == 503 and "unavailable" in api.get_json()["error"]
    assert client.get("/search?q=reset+password").status_code == 503
    health = client.get("/api/v1/health")
    assert health.status_code == 503 and health.get_json()["ok"] is False
    assert "unreadable" in health.get_json()["search"]["problem"]
    build_index(app.config["ARTICLES_DIR"], app.config["INDEX_DIR"], full=True)   # rebuilt
    assert client.get("/api/v1/search?q=reset+password").status_code == 200
    assert client.get("/api/v1/health").get_json()["ok"] is True


@pytest.mark.parametrize("breaks", ["catalog", "segment"])
def test_the_last_good_generation_serves_while_the_new_one_is_broken(kb, index_dir, breaks):
    build_index(kb, index_dir, full=True)
    good = IndexFolder(index_dir).current()
    write_article(kb, "en", "fresh-topic", "Quasar nebula guide", "All about the quasar nebula.")
    build_index(kb, index_dir, full=True)
    broken = IndexFolder(index_dir).current()
    backup = broken.path.parent / "backup"
    shutil.copytree(broken.path, backup)
    _junk(broken.catalog if breaks == "catalog" else _segment(broken))
    service = SearchService(index_dir)
    assert ids(service.search("reset password"))[0] == "en/reset-password"
    health = service.health()
    assert health["index"] == good.name and good.name in health["problem"]
    shutil.rmtree(broken.path)
    shutil.copytree(backup, broken.path)                    # restored from the backup
    assert ids(service.search("quasar nebula"))[0] == "en/fresh-topic"
    assert service.health()["index"] == broken.name and service.health()["problem"] is None


def test_a_missing_index_folder_is_not_reported_healthy(app, client):
    shutil.rmtree(app.config["INDEX_DIR"])
    health = client.get("/api/v1/health").get_json()
    assert health["ok"] is False and health["search"]["problem"]


def test_a_service_without_an_index_raises_with_the_reason(tmp_path):
    service = SearchService(tmp_path / "nothing")
    with pytest.raises(SearchUnavailable, match="no index"):
        service.search("anything")
