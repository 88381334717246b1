"""Rate limits shared through a real Redis, and what happens when Redis goes away."""
from __future__ import annotations

import redis

from conftest import make_app


def _app(root, articles_dir, redis_url, limit="3/minute"):
    return make_app(root, ARTICLES_DIR=str(articles_dir), RATELIMIT_ENABLED=True,
                    RATELIMIT_PUBLIC=limit, REDIS_URL=redis_url)


def test_app_servers_share_one_limit_through_redis(tmp_path, articles_dir, redis_server):
    first = _app(tmp_path / "a", articles_dir, redis_server).test_client()
    assert [first.get("/api/v1/search?q=x").status_code for _ in range(2)] == [200, 200]
    # A second app server, its own limiter storage object: the count it reads is Redis's.
    second = _app(tmp_path / "b", articles_dir, redis_server).test_client()
    assert [second.get("/api/v1/search?q=x").status_code for _ in range(2)] == [200, 429]
    assert redis.Redis.from_url(redis_server).keys("LIMITS:*")


def test_health_shows_the_shared_storage(tmp_path, articles_dir, redis_server):
    body = _app(tmp_path, articles_dir, redis_server).test_client().get("/api/v1/health").get_json()
    assert body["rate_limits"] == {"storage": "redis", "shared": True, "ok": True}
    assert body["ok"] is True


def test_without_redis_limits_count_in_memory_and_requests_still_answer(tmp_path, articles_dir,
                                                                        redis_server, caplog):
    client = _app(tmp_path, articles_dir, redis_server, limit="2/minute").test_client()
    assert client.get("/api/v1/search?q=x").status_code == 200
    redis_server.stop()
    statuses = [client.get("/api/v1/search?q=x").status_code for _ in range(3)]
    assert 500 not in statuses and statuses[-1] == 429   # limits still apply, per process
    assert "falling back to in-memory storage" in caplog.text
    health = client.get("/api/v1/health")
    assert health.status_code == 200   # search answers: a Redis outage is not an outage
    assert health.get_json()["rate_limits"] == {"storage": "redis", "shared": False, "ok": False}
    assert health.get_json()["ok"] is False


def test_default_is_per_process_memory(client):
    assert client.get("/api/v1/health").get_json()["rate_limits"] == {
        "storage": "memory", "shared": False, "ok": True}
