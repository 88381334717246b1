"""Several nodes on one PostgreSQL search the same knowledge base (issue 13).

Real ``kb serve`` processes on free ports, on a real PostgreSQL (``postgres_cluster``): an
article published on node A is found on node B within 5 s (told by PostgreSQL's LISTEN/NOTIFY:
the nodes' polling is set to 30 s here), B indexes with the vectors A embedded instead of
embedding them again, and a node C that starts with an empty articles folder reports not-ready
until it has built its index from the database, then answers; contacts sent to both nodes at
once are all stored, each once.
"""
from __future__ import annotations

import html
import http.cookiejar
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from kb_server.pgcluster import free_port
from search_helpers import FIXTURE_KB
from test_serve import _wait_for

PUBLISH_BOUND_S = 5.0        # the bound: published on A, searchable on B
KB = [sys.executable, "-c", "from kb_server.cli import main; main()"]
STAFF_EMAIL, STAFF_PASSWORD = "editor@example.com", "correct horse battery staple"


class Node:
    """One ``kb serve`` process (one worker) with its own instance, index and articles."""

    def __init__(self, root: Path, database: str, embedder: str, articles: Path | None):
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder = root / "articles"
        if articles is not None:
            shutil.copytree(articles, folder)
        else:
            folder.mkdir(parents=True)
        self.env = {**os.environ, "KB_DATABASE_URL": database,
                    "KB_INSTANCE_DIR": str(root / "instance"),
                    "KB_ARTICLES_DIR": str(folder), "KB_EMBEDDER": embedder,
                    "KB_SECRET_KEY": "multinode", "KB_JOBS_IN_SERVE": "false",
                    "KB_ARTICLES_SYNC_SECONDS": "30", "KB_RATELIMIT": "100000/minute",
                    "KB_RATELIMIT_CONTACT": "100000/minute"}
        self.process: subprocess.Popen | None = None

    def kb(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([*KB, *args], env=self.env, input=stdin, capture_output=True,
                              text=True, timeout=120)

    def start(self) -> "Node":
        self.log = open(self.root / "serve.log", "w")
        self.process = subprocess.Popen(
            [*KB, "serve", "--port", str(self.port), "--workers", "1", "--threads", "4"],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)
        self.log.close()

    def get(self, path: str) -> tuple[int, dict | str | None]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                body = response.read().decode()
                status = response.status
        except urllib.error.HTTPError as error:
            body, status = error.read().decode(), error.code
        except OSError:
            return 0, None
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body

    def hits(self, query: str) -> list[str]:
        status, body = self.get("/api/v1/search?mode=keyword&q=" + urllib.parse.quote(query))
        return [hit["slug"] for hit in body["hits"]] if status == 200 else []

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def health(self) -> dict:
        return self.get("/api/v1/health")[1] or {}

    def metric(self, name: str, labels: str = "") -> float:
        text = self.get("/metrics")[1]
        found = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
        return float(found.group(1)) if found else 0.0

    def tail(self) -> str:
        return (self.root / "serve.log").read_text()[-3000:]


def _vectors_done(node: Node) -> bool:
    search = node.health().get("search") or {}
    vectors = search.get("vectors") or {}
    return bool(search.get("articles")) and vectors.get("articles") == search["articles"] \
        and not search.get("indexing")


@pytest.fixture(scope="module")
def database(postgres_cluster):
    admin = sa.create_engine(postgres_cluster, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql('CREATE DATABASE "multinode"')
    yield postgres_cluster.rsplit("/", 1)[0] + "/multinode"
    with admin.connect() as connection:
        connection.exec_driver_sql('DROP DATABASE "multinode" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="module")
def nodes(tmp_path_factory, database):
    """A (the first: imports the articles, embeds them) and B (started once A's vectors are
    stored), each with a copy of the fixture articles and the e5 model."""
    a = Node(tmp_path_factory.mktemp("node-a"), database, "e5", FIXTURE_KB)
    b = Node(tmp_path_factory.mktemp("node-b"), database, "e5", FIXTURE_KB)
    started = []
    try:
        started.append(a.start())
        assert _wait_for(lambda: _vectors_done(a), 90, every=0.3), a.tail()
        started.append(b.start())
        added = a.kb("user", "add", STAFF_EMAIL, "--role", "editor", "--password-stdin",
                     stdin=STAFF_PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
        assert _wait_for(lambda: _vectors_done(b), 90, every=0.3), b.tail()
        yield a, b
    finally:
        for node in started:
            node.stop()


class Console:
    """A staff member signed in to a node's console (session cookie and CSRF token)."""

    def __init__(self, node: Node):
        self.node = node
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.post("/console/login", {"email": STAFF_EMAIL, "password": STAFF_PASSWORD},
                  token_from="/console/login")

    def _token(self, path: str) -> str:
        page = self.opener.open(self.node.url + path, timeout=10).read().decode()
        return html.unescape(re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))

    def post(self, path: str, form: dict, token_from: str) -> str:
        data = urllib.parse.urlencode({**form, "csrf_token": self._token(token_from)}).encode()
        with self.opener.open(self.node.url + path, data=data, timeout=30) as response:
            assert response.status == 200, response.status
            return response.geturl()

    def publish(self, slug: str, title: str, body: str) -> None:
        landed = self.post("/console/articles", {
            "title": title, "slug": slug, "language": "en", "category": "account",
            "tags": "cluster", "summary": title, "urls": "", "visibility": "public",
            "body": body, "base_hash": "", "action": "publish"}, token_from="/console/articles/new")
        assert re.search(r"/console/articles/\d+$", landed), landed


def test_vectors_embedded_by_one_node_are_not_embedded_again_by_another(nodes):
    a, b = nodes
    shared = '{source="shared"}'
    computed = '{source="computed"}'
    # B is fully embedded (the fixture waited) and computed none itself: all came from A,
    # which embedded each passage once (not again for its own records, nor in overlapping runs).
    assert b.metric("kb_passage_vectors_total", shared) > 0
    assert a.metric("kb_passage_vectors_total", computed) == \
        b.metric("kb_passage_vectors_total", shared)
    assert b.metric("kb_passage_vectors_total", computed) == 0
    assert b.health()["search"]["mode"] == "hybrid"


def test_published_on_one_node_is_searchable_on_the_other_within_5s(nodes, capsys,
                                                                    record_property):
    a, b = nodes
    console = Console(a)
    delays = []
    for round_ in range(3):
        word = f"quasarflux{round_}"
        console.publish(f"cluster-note-{round_}", f"Cluster note {round_}",
                        f"The {word} setting keeps every node in step.\n")
        published = time.monotonic()
        assert a.hits(word) == [f"cluster-note-{round_}"]       # A reindexed as it published
        found = _wait_for(lambda: b.hits(word), PUBLISH_BOUND_S, every=0.05)
        delays.append(time.monotonic() - published)
        assert found == [f"cluster-note-{round_}"], b.tail()
    median = statistics.median(delays)
    record_property("publish_to_search_median_s", round(median, 3))
    with capsys.disabled():        # shown in a normal run, not only with -s
        print(f"\npublished on A -> searchable on B: median {median:.2f}s "
              f"(rounds: {', '.join(f'{d:.2f}s' for d in delays)})")
    following = b.health()["following"]
    assert following["caught_up"] and following["lag"] == 0
    assert b.metric("kb_index_generation") == following["generation_served"] > 0
    assert b.metric("kb_index_generation_lag") == 0
    assert (b.root / "articles" / "en" / "cluster-note-2.md").read_text() == \
        (a.root / "articles" / "en" / "cluster-note-2.md").read_text()


def test_a_node_starting_empty_is_not_ready_until_it_has_built_from_the_database(
        nodes, tmp_path, database):
    c = Node(tmp_path, database, "none", articles=None)
    engine = sa.create_engine(database)
    try:
        with engine.connect() as holder:       # C cannot read the shared files for a moment
            holder.exec_driver_sql("LOCK TABLE published_file IN ACCESS EXCLUSIVE MODE")
            c.start()
            status, body = _wait_for(lambda: (lambda r: r if r[0] else None)(c.get("/readyz")), 60)
            assert status == 503 and not body["checks"]["caught_up"], (status, body)
            assert c.health()["following"]["caught_up"] is False
            holder.rollback()
        assert _wait_for(lambda: c.get("/readyz")[0] == 200, 30), c.tail()
        assert c.hits("reset password")[0] == "reset-password"
        assert c.hits("quasarflux1") == ["cluster-note-1"]      # published on A before C existed
        assert c.health()["following"]["lag"] == 0
    finally:
        c.stop()
        engine.dispose()


def test_contacts_sent_to_both_nodes_at_once_are_all_stored(nodes, database):
    a, b = nodes
    sent = [(node, f"Contact {n} via {name}: the invoice page is blank")
            for n in range(6) for name, node in (("A", a), ("B", b))]
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda each: each[0].post("/api/v1/contact", {
            "email": "multi@example.com", "message": each[1], "session_id": "multi"}), sent))
    assert [status for status, _ in answers] == [201] * len(sent), answers
    references = [body["ticket"]["reference"] for _, body in answers]
    engine = sa.create_engine(database)
    try:
        with engine.connect() as connection:
            stored = [tuple(row) for row in connection.execute(sa.text(
                "SELECT message, reference FROM ticket WHERE kind = 'contact' "
                "AND email = 'multi@example.com' ORDER BY message"))]
    finally:
        engine.dispose()
    assert stored == sorted((message, reference) for (_, message), reference in zip(sent, references))


@pytest.mark.slow
def test_polling_catches_up_without_notifications_and_a_restarted_node_catches_up(
        nodes, tmp_path, database):
    a, _ = nodes
    d = Node(tmp_path, database, "none", articles=None)
    d.env["KB_ARTICLES_SYNC_SECONDS"] = "2"
    engine = sa.create_engine(database, isolation_level="AUTOCOMMIT")
    console = Console(a)
    try:
        d.start()
        assert _wait_for(lambda: d.get("/readyz")[0] == 200, 60), d.tail()
        with engine.connect() as connection:      # every node's LISTEN connection is cut
            cut = connection.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN %'")).fetchall()
        assert len(cut) >= 3
        console.publish("cluster-polled", "Polled note", "The nebulwhirl value is polled.\n")
        assert _wait_for(lambda: d.hits("nebulwhirl"), 30), d.tail()   # within ~2 polls
        d.stop()
        console.publish("cluster-away", "While away", "The gravimorph note came meanwhile.\n")
        d.start()
        assert _wait_for(lambda: d.get("/readyz")[0] == 200, 60), d.tail()
        assert d.hits("gravimorph") == ["cluster-away"]
        assert d.hits("nebulwhirl") == ["cluster-polled"]
    finally:
        d.stop()
        engine.dispose()
