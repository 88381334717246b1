"""``kb_server.serving.serve``: the app served by waitress in worker processes on one socket."""
from __future__ import annotations

import functools
import http.client
import multiprocessing
import os
import re
import signal
import time
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest

from bench.run import bench_app
from indexer.index import build_index
from kb_server.serving import serve


def _get(port: int, path: str) -> int:
    return _fetch(port, path)[0]


def _fetch(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def _wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def config(tmp_path, articles_dir) -> dict:
    build_index(articles_dir, tmp_path / "index")   # the app serves the index it finds
    return {"INSTANCE_DIR": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'serving.db'}",
            "INDEX_DIR": str(tmp_path / "index"), "ARTICLES_DIR": str(articles_dir),
            "SECRET_KEY": "test", "EMBEDDER": "none", "SEARCH_MODE": "keyword",
            "RATELIMIT_ENABLED": False}


def _serve_two_workers(config: dict) -> tuple:
    """A master process (a fresh interpreter) serving the bench app with two workers on a free
    port: (the process, its port) once it is ready."""
    context = multiprocessing.get_context("spawn")
    ports = context.SimpleQueue()
    master = context.Process(target=serve, args=(functools.partial(bench_app, config),
                                                 "127.0.0.1", 0, 2, 2), kwargs={"on_ready": ports.put})
    master.start()
    return master, ports.get()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="worker processes need os.fork")
def test_workers_serve_one_socket_and_are_replaced_and_stopped(config):
    master, port = _serve_two_workers(config)
    try:
        workers = lambda: psutil.Process(master.pid).children()
        _wait_for(lambda: len(workers()) == 2)
        for path in ["/api/v1/health", "/api/v1/search?q=password"] * 5:
            assert _get(port, path) == 200
        first = workers()[0]
        first.send_signal(signal.SIGKILL)                  # a worker dies: another takes its place
        _wait_for(lambda: len(workers()) == 2 and first.pid not in {w.pid for w in workers()})
        assert _get(port, "/api/v1/search?q=password") == 200
        remaining = workers()
        master.terminate()                                 # SIGTERM stops the workers too
        master.join(timeout=30)
        assert master.exitcode == 0
        _wait_for(lambda: not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE
                                  for w in remaining))
    finally:
        if master.is_alive():
            master.kill()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="worker processes need os.fork")
def test_metrics_add_up_every_worker(config):
    master, port = _serve_two_workers(config)
    try:
        _wait_for(lambda: len(psutil.Process(master.pid).children()) == 2)
        for _ in range(12):   # new connections: the two workers share them
            assert _get(port, "/api/v1/search?q=password") == 200
        line = re.compile(r'^kb_http_requests_total\{endpoint="api.search_articles",status="200"\} (\S+)$', re.M)
        totals = {float(line.search(_fetch(port, "/metrics")[1]).group(1)) for _ in range(6)}
        assert totals == {12.0}   # whichever worker answers the scrape
    finally:
        master.terminate()
        master.join(timeout=30)


def test_the_created_app_is_frozen_out_of_the_garbage_collector(monkeypatch):
    """What the app holds once created (index, catalog) is never walked by a full collection:
    ``serve`` freezes it before the workers start serving."""
    import gc

    from kb_server import serving
    held = [[n] for n in range(1000)]                    # stands for what the app loaded
    seen = {}

    def run(app, sock, threads):
        sock.close()
        seen["frozen"] = gc.get_freeze_count()
    monkeypatch.setattr(serving, "run_waitress", run)
    gc.unfreeze()
    try:
        serve(lambda: held, "127.0.0.1", 0, workers=1)
    finally:
        gc.unfreeze()
    assert seen["frozen"] >= len(held)


PUBLISHED = """---
title: Проверка публикации
slug: publish-check-two
language: ru
category: account
summary: Статья, опубликованная, пока серверы работают.
---
Эта статья появилась после запуска серверов: журавль.
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="worker processes need os.fork")
def test_every_worker_serves_a_new_generation_as_soon_as_it_is_written(config):
    """A publish reindexes in one process; every worker answers the article (page and search)
    on its very next request, whether or not it has searched since."""
    master, port = _serve_two_workers(config)
    try:
        _wait_for(lambda: len(psutil.Process(master.pid).children()) == 2)
        for _ in range(6):   # both workers have the index open
            assert _get(port, "/a/ru/publish-check-two") == 404
        (Path(config["ARTICLES_DIR"]) / "ru" / "publish-check-two.md").write_text(PUBLISHED, encoding="utf-8")
        build_index(config["ARTICLES_DIR"], config["INDEX_DIR"])   # what a publish does
        assert {_get(port, "/a/ru/publish-check-two") for _ in range(8)} == {200}
        assert all("publish-check-two" in _fetch(port, "/api/v1/search?lang=ru&q=" + quote("журавль"))[1]
                   for _ in range(6))
    finally:
        master.terminate()
        master.join(timeout=30)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="worker processes need os.fork")
def test_a_worker_told_to_stop_while_it_starts_stops(monkeypatch):
    """A replacement worker is forked while its parent has its own SIGTERM handler installed:
    a SIGTERM before the worker's server is up must end it, not run the parent's handler."""
    from kb_server import serving
    monkeypatch.setattr(serving, "_after_fork", lambda app: None)
    monkeypatch.setattr(serving, "run_waitress", lambda app, sock, threads: time.sleep(30))
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)     # the parent's stop
    try:
        pid = serving._fork_worker(None, None, 1)
        os.kill(pid, signal.SIGTERM)                      # at once: the worker is still starting
        deadline = time.monotonic() + 10
        while (ended := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        if ended[0] == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        assert ended[0] == pid and os.WIFSIGNALED(ended[1])
    finally:
        signal.signal(signal.SIGTERM, previous)
