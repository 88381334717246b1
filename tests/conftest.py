"""Shared fixtures (after Flask's tutorial): ``app``, ``client``, ``runner``.

Tests run on the small fixture knowledge base in ``tests/fixtures/articles``, keyword search only
(the semantic tests load the model themselves). The expensive parts are made once per session
(``template``: the index, and a database migrated by Alembic with the demo site) and copied for
each test, so a test may write to its articles, index and database freely.
"""
from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from indexer.index import build_index
from kb_server import create_app
from kb_server.cli.instance import init_instance
from search_helpers import build_service, copy_fixture_kb
from staff_helpers import STAFF_ADMIN, add_staff

FIXTURES = Path(__file__).parent / "fixtures"


def app_config(root: Path, **overrides) -> dict:
    """Test configuration of an instance whose files live under ``root``."""
    return {
        "TESTING": True,
        "INSTANCE_DIR": str(root / "instance"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'test.db'}",
        "INDEX_DIR": str(root / "index"),
        "ARTICLES_DIR": str(root / "articles"),
        "SECRET_KEY": "test",
        "EMBEDDER": "none",
        "SEARCH_MODE": "keyword",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "JOBS_IMMEDIATE": True,      # jobs run where they are queued (tests/test_jobs.py: a consumer)
        "EVENTS_FLUSH_SECONDS": 0,   # each event written in its request (tests/test_intake.py: batches)
        # the fixture KB is tiny: the tests' made-up unanswered questions ("ошибка 809 vpn") share
        # no word with it; tests/test_ticket_rules.py checks the in-domain rule itself
        "GAP_IN_DOMAIN_ONLY": False,
        **overrides,
    }


def make_app(root: Path, **overrides):
    """An app set up the way ``kb serve`` sets one up: migrated database, demo site, index of
    its articles (keyword only; ``ARTICLES_DIR`` defaults to ``root/articles``)."""
    app = create_app(app_config(root, **overrides))
    with app.app_context():
        init_instance()
    build_index(app.config["ARTICLES_DIR"], app.config["INDEX_DIR"])
    app.extensions["search"].reload()
    return app


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Path:
    """The fixture knowledge base with its index and database, made once per session."""
    root = tmp_path_factory.mktemp("template")
    copy_fixture_kb(root / "articles")
    app = make_app(root)
    with app.app_context():
        add_staff(STAFF_ADMIN, "admin", token="test-token")
    return root


@pytest.fixture
def articles_dir(tmp_path) -> Path:
    """A writable copy of the fixture knowledge base."""
    return copy_fixture_kb(tmp_path / "articles")


@pytest.fixture
def app(tmp_path, articles_dir, template):
    """An app on copies of the template's index and database."""
    shutil.copytree(template / "index", tmp_path / "index")
    shutil.copy2(template / "test.db", tmp_path / "test.db")
    return create_app(app_config(tmp_path))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def kb(articles_dir) -> Path:
    """The writable fixture knowledge base, for indexer tests."""
    return articles_dir


@pytest.fixture
def index_dir(tmp_path) -> Path:
    return tmp_path / "index"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """A keyword-only search service on the fixture knowledge base, shared by a module's
    read-only tests."""
    root = tmp_path_factory.mktemp("kb")
    return build_service(copy_fixture_kb(root / "articles"), root / "index")


@pytest.fixture(scope="session")
def e5_embedder():
    """The default embedder (multilingual-e5-small on ONNX Runtime), built once per session:
    building its graph costs seconds. Read-only: tests must not change it."""
    from indexer.embeddings import load_embedder
    return load_embedder("e5")


@pytest.fixture
def no_network(monkeypatch):
    """Any connection outside loopback fails (nothing may be downloaded at run time)."""
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else str(address)
        if host not in ("127.0.0.1", "localhost", "::1") and not str(host).startswith("/"):
            raise OSError(f"network access attempted: {address}")
        return real_connect(sock, address)
    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def postgres_cluster():
    """A real PostgreSQL started in a temporary folder for the session (Debian's
    ``postgresql``; ``make test`` installs it); yields a URL to its maintenance database."""
    from kb_server.pgcluster import temporary_cluster
    with temporary_cluster() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_cluster, request):
    """A fresh, empty database on the session's PostgreSQL, dropped after the test."""
    import sqlalchemy as sa
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    admin = sa.create_engine(postgres_cluster, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield postgres_cluster.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def redis_server(tmp_path):
    """A real Redis (Debian's ``redis-server``; ``make test`` installs it) on a free loopback
    port, without persistence; yields its URL. ``.stop()`` on the yielded object stops it."""
    import subprocess
    from bench.deploy import redis_server as start_redis

    class Server(str):
        process: subprocess.Popen

        def stop(self) -> None:
            self.process.terminate()
            self.process.wait(10)

    with start_redis(tmp_path) as (url, process):
        server = Server(url)
        server.process = process
        yield server
