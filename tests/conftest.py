"""Shared fixtures (after Flask's tutorial): ``app``, ``client``, ``runner``.

Tests run on the small fixture knowledge base in ``tests/fixtures/articles`` with a fresh
instance folder, keyword search only (the semantic tests load the model themselves).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb_server import create_app
from search_helpers import build_service, copy_fixture_kb

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def articles_dir(tmp_path) -> Path:
    """A writable copy of the fixture knowledge base."""
    target = tmp_path / "articles"
    shutil.copytree(FIXTURES / "articles", target)
    return target


@pytest.fixture
def app(tmp_path, articles_dir):
    app = create_app({
        "TESTING": True,
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.db'}",
        "INDEX_DIR": str(tmp_path / "index"),
        "ARTICLES_DIR": str(articles_dir),
        "SECRET_KEY": "test",
        "EMBEDDER": "none",
        "SEARCH_MODE": "keyword",
        "API_TOKEN": "test-token",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
    })
    yield app


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
