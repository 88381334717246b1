"""Shared fixtures (after Flask's tutorial): ``app``, ``client``, ``runner``.

Tests run on the small fixture knowledge base in ``tests/fixtures/articles`` with a fresh
instance folder, keyword search only (the semantic tests load the model themselves).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb_server import create_app

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
