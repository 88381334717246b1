"""The real headless Chromium the browser tests drive: Debian's ``chromium`` through Playwright
(the same binary and flags as ``kb bench``'s widget step)."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from werkzeug.serving import make_server

from bench.run import CHROMIUM, CHROMIUM_ARGS
from kb_server.tickets import classify


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module (each test opens its own context)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make install-test)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def prepare_like_kb_serve(app) -> None:
    """What ``kb serve`` learns before it serves, so no request pays it: the contact
    classifier's word model (seconds on a quiet machine, more than a browser test waits for a
    page under load)."""
    with app.app_context():
        classify.prepare()


@contextmanager
def serving(app) -> Iterator[str]:
    """The app, prepared as ``kb serve`` prepares it, on a real HTTP server on a free loopback
    port: yields its base URL."""
    prepare_like_kb_serve(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def live_server(app):
    """The app on a real HTTP server (``serving``)."""
    with serving(app) as base:
        yield base
