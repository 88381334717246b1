"""Faults: PostgreSQL restarted during contacts, Redis stopped, a full disk while a new index
generation is written, and nodes killed with SIGKILL on a real two-node deployment
(``bench/deploy.py``): during a small request burst in every run, and (``slow``, ``make
faults``) during a long burst and during a reindex."""
from __future__ import annotations

import errno
import json
import signal
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor, wait

import pytest
import sqlalchemy as sa

from conftest import make_app
from indexer import index as index_module
from indexer.generation import IndexFolder
from indexer.index import build_index
from kb_server import intake
from search_helpers import ids, write_article
from test_serve import _wait_for

CONTACT = {"email": "anna@example.com", "message": "The export page shows an error"}


def contact_tickets(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM ticket WHERE kind = 'contact'")).scalar()
    engine.dispose()
    return count


def test_postgres_restarted_during_contacts_loses_none(tmp_path, articles_dir, postgres_url,
                                                       postgres_cluster):
    app = make_app(tmp_path, ARTICLES_DIR=str(articles_dir), SQLALCHEMY_DATABASE_URI=postgres_url)
    client = app.test_client()
    statuses: list[int] = []
    stop = threading.Event()

    def send() -> None:
        while not stop.is_set():
            statuses.append(client.post("/api/v1/contact", json=CONTACT).status_code)
            time.sleep(0.02)

    sender = threading.Thread(target=send)
    sender.start()
    try:        # the phases wait for what they need to see, not for a time (the machine may be busy)
        assert _wait_for(lambda: 201 in statuses, 60), statuses          # stored
        postgres_cluster.stop()
        assert _wait_for(lambda: 202 in statuses, 60), statuses          # spooled meanwhile
        postgres_cluster.start()
        back = len(statuses)
        assert _wait_for(lambda: 201 in statuses[back:], 60), statuses   # stored again
    finally:
        stop.set()
        sender.join()
    assert set(statuses) <= {201, 202}, statuses          # stored, or spooled: never an error
    deadline = time.monotonic() + 60      # the flusher thread stores them too (files are locked)
    with app.app_context():
        while intake.spooled(app) and time.monotonic() < deadline:
            intake.drain_spool(app)
            time.sleep(0.1)
    assert intake.spooled(app) == []
    assert contact_tickets(postgres_url) == len(statuses)


def test_redis_stopped_limits_degrade_and_nothing_fails(tmp_path, articles_dir, redis_server):
    app = make_app(tmp_path, ARTICLES_DIR=str(articles_dir), RATELIMIT_ENABLED=True,
                   REDIS_URL=redis_server, JOBS_IMMEDIATE=False)
    client = app.test_client()
    redis_server.stop()
    answers = [client.get("/api/v1/search?q=reset+password"), client.get("/api/v1/suggest?q=res"),
               client.post("/api/v1/events", json={"session_id": "s", "kind": "search", "query": "x"}),
               client.post("/api/v1/contact", json=CONTACT)]      # its webhook job is not queued
    assert [a.status_code for a in answers] == [200, 200, 201, 201]
    assert client.get("/api/v1/health").get_json()["rate_limits"]["ok"] is False


def test_with_redis_stopped_a_contacts_follow_up_runs_in_the_process(tmp_path, articles_dir,
                                                                     redis_server):
    """The queue is unreachable when an outage contact commits: its follow-up (classification,
    incident grouping) runs in a thread of the process instead of being lost, once."""
    from kb_server.extensions import db
    from kb_server.models import IncidentReport, Ticket
    from kb_server.tickets import service
    app = make_app(tmp_path, ARTICLES_DIR=str(articles_dir), REDIS_URL=redis_server,
                   JOBS_IMMEDIATE=False, INCIDENT_REPORTS=3, JOBS_REQUEUE_SECONDS=0)
    client = app.test_client()
    redis_server.stop()
    for n, message in enumerate(("Orbita is down, nothing opens", "I get 502 bad gateway on every page",
                                 "site is down for everyone")):
        assert client.post("/api/v1/contact", json={**CONTACT, "session_id": f"s{n}",
                                                    "message": message}).status_code == 201

    def incident():
        with app.app_context():
            return db.session.scalar(sa.select(Ticket).where(Ticket.kind == "incident"))
    deadline = time.monotonic() + 30
    while incident() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert incident() is not None and incident().reports == 3
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IncidentReport)) == 3
        assert db.session.scalar(sa.select(sa.func.count()).where(Ticket.follow_up_due.is_not(None))) == 0
        assert service.requeue_follow_ups() == 0          # nothing left for the sweep


def test_a_full_disk_while_writing_a_generation_leaves_the_old_one_serving(kb, index_dir, monkeypatch):
    build_index(kb, index_dir, full=True)
    good = IndexFolder(index_dir).current()
    from indexer.search import SearchService
    service = SearchService(index_dir)
    write_article(kb, "en", "fresh-topic", "Quasar nebula guide", "All about the quasar nebula.")
    real_write = index_module.write_atomic

    def disk_full(path, text):
        if path.name.startswith("manifest"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, text)
    monkeypatch.setattr(index_module, "write_atomic", disk_full)
    with pytest.raises(OSError):
        build_index(kb, index_dir, full=True)
    assert IndexFolder(index_dir).current().name == good.name
    service.reload()
    assert ids(service.search("reset password"))[0] == "en/reset-password"
    assert service.health()["index"] == good.name
    monkeypatch.undo()                                   # space again: the next build serves
    build_index(kb, index_dir, full=True)
    service.reload()
    assert ids(service.search("quasar nebula"))[0] == "en/fresh-topic"


# --- a real deployment: two nodes x two workers on PostgreSQL and Redis -------------------------
ANSWER_SECONDS = 60      # a request still unanswered after this counts as failed (0): generous,
                         # the machine may be busy; a node that is gone fails at once
def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=ANSWER_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def _post_contact(url: str) -> int:
    request = urllib.request.Request(f"{url}/api/v1/contact", data=json.dumps(CONTACT).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=ANSWER_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    from bench.deploy import deployment
    from search_helpers import FIXTURE_KB
    with deployment(nodes=2, workers=2, articles=FIXTURE_KB, staff=False,
                    root=tmp_path_factory.mktemp("deploy")) as running:
        yield running


def _served_generation(url: str) -> str:
    with urllib.request.urlopen(f"{url}/api/v1/health", timeout=ANSWER_SECONDS) as response:
        return json.load(response)["search"]["index"]


@pytest.mark.parametrize("searches, contacts", [(60, 6),                   # make test: short
                                                pytest.param(400, 20, marks=pytest.mark.slow)])
def test_a_node_killed_during_a_burst_the_other_keeps_serving(deployed, searches, contacts):
    """Searches go to both nodes (as a load balancer spreads them) and contacts to the second;
    the first is killed with SIGKILL a third of the way through. The second answers every
    request; the killed one answers none with a 5xx (it is gone: its connections fail, the
    balancer retries); every contact is stored; the killed node restarts on the generation it
    served before, not a rebuilt or half-written one."""
    first, second = deployed.nodes
    generation = _served_generation(first.url)
    stored_before = contact_tickets(deployed.database)
    with ThreadPoolExecutor(8) as pool:
        burst = [[pool.submit(_get, f"{node.url}/api/v1/search?q=password+{n}")
                  for n in range(searches // 2)] for node in (first, second)]
        sent = [pool.submit(_post_contact, second.url) for _ in range(contacts)]
        wait(burst[0][:searches // 6])
        first.kill(signal.SIGKILL)
        on_first, on_second = ([f.result() for f in futures] for futures in burst)
        statuses = [f.result() for f in sent]
    assert set(on_second) == {200} and set(statuses) == {201}, (on_second, statuses, second.log_tail())
    assert set(on_first) <= {200, 0} and on_first[0] == 200, sorted(set(on_first))
    assert _get(f"{second.url}/api/v1/health") == 200
    assert contact_tickets(deployed.database) == stored_before + contacts
    first.start()
    first.wait_ready()
    assert _served_generation(first.url) == generation
    assert _get(f"{first.url}/api/v1/search?q=password") == 200


@pytest.mark.slow
def test_a_node_killed_during_a_reindex_restarts_on_its_last_good_generation(deployed):
    import subprocess
    from bench.deploy import KB
    node = deployed.nodes[0]
    before = _served_generation(node.url)
    reindex = subprocess.Popen([*KB, "index", "--full", "--keyword-only"], env=node.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.8)
    reindex.kill()
    reindex.wait()
    node.kill(signal.SIGKILL)
    assert _get(f"{deployed.nodes[1].url}/api/v1/search?q=password") == 200
    node.start()
    node.wait_ready()
    health = json.load(urllib.request.urlopen(f"{node.url}/api/v1/health"))
    assert health["search"]["keyword"] == "ok" and health["search"]["index"] >= before
    assert _get(f"{node.url}/api/v1/search?q=password") == 200
