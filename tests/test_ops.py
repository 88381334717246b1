"""Liveness, readiness and Prometheus metrics."""
from __future__ import annotations

import re

from conftest import app_config
from kb_server import create_app

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}


def _sample(text: str, name: str, **labels) -> float:
    """The value of one sample of the Prometheus text (0 when it is not there yet)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    line = f"{name}{{{wanted}}}" if labels else name
    found = re.search(rf"^{re.escape(line)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_livez_and_readyz(client):
    assert client.get("/livez").get_json() == {"ok": True}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"keyword_index": True, "database": True}


def test_not_ready_without_an_index(tmp_path):
    client = create_app(app_config(tmp_path)).test_client()   # no index built, no tables
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["keyword_index"] is False
    assert client.get("/livez").status_code == 200


def test_metrics_count_requests_searches_and_rejections(client):
    def scrape():
        response = client.get("/metrics", environ_base=LOOPBACK)
        assert response.status_code == 200 and response.mimetype == "text/plain"
        return response.get_data(as_text=True)

    search = {"endpoint": "api.search_articles"}
    before = scrape()
    for _ in range(3):
        assert client.get("/api/v1/search?q=password").status_code == 200
    after = scrape()

    def grew(name, **labels):
        return _sample(after, name, **labels) - _sample(before, name, **labels)
    assert grew("kb_http_requests_total", **search, status="200") == 3
    assert grew("kb_http_request_duration_seconds_count", **search) == 3
    assert grew("kb_search_duration_seconds_count", mode="keyword") == 3
    assert _sample(after, "kb_index_articles") > 0
    assert _sample(after, "kb_index_age_seconds") > 0


def test_rate_limit_rejections_are_counted(tmp_path, articles_dir):
    from conftest import make_app
    client = make_app(tmp_path, ARTICLES_DIR=str(articles_dir), RATELIMIT_ENABLED=True,
                      RATELIMIT_PUBLIC="1/minute").test_client()
    labels = {"endpoint": "api.suggest"}
    before = _sample(client.get("/metrics", environ_base=LOOPBACK).get_data(as_text=True),
                     "kb_ratelimit_rejections_total", **labels)
    assert [client.get("/api/v1/suggest?q=pa").status_code for _ in range(2)] == [200, 429]
    after = client.get("/metrics", environ_base=LOOPBACK).get_data(as_text=True)
    assert _sample(after, "kb_ratelimit_rejections_total", **labels) == before + 1


def test_metrics_are_for_loopback_or_the_token(tmp_path, template):
    import shutil
    shutil.copytree(template / "index", tmp_path / "index")
    shutil.copy2(template / "test.db", tmp_path / "test.db")
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    open_app = create_app(app_config(tmp_path)).test_client()
    assert open_app.get("/metrics", environ_base=outside).status_code == 403
    locked = create_app(app_config(tmp_path, METRICS_TOKEN="s3cret")).test_client()
    assert locked.get("/metrics", environ_base=LOOPBACK).status_code == 403
    assert locked.get("/metrics", environ_base=outside,
                      headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_an_embedded_database_writer_waits_for_another_instead_of_failing(app):
    # the server's workers and background jobs share the SQLite file: "database is locked"
    # after the driver's 5 s was a failed contact on a busy machine
    from sqlalchemy import text

    from kb_server.extensions import SQLITE_BUSY_TIMEOUT_MS, db
    with app.app_context():
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == SQLITE_BUSY_TIMEOUT_MS >= 30_000
