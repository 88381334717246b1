"""Helpers for the authoring tests: staff of each role, the editor form, the file on disk."""
from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from staff_helpers import add_staff, login

BODY = ("Export everything you stored in Orbita.\n\n## Formats\n\n| format | contents |\n"
        "|---|---|\n| CSV | tables |\n| JSON | everything |\n\n## Command\n\n```bash\n"
        "orbita export --all\n```\n")


def form(**overrides) -> dict:
    data = {"title": "Export your data", "slug": "export-data", "language": "en",
            "category": "account", "tags": "export, backup", "summary": "Download a copy.",
            "urls": "/settings/export*", "visibility": "public", "body": BODY,
            "base_hash": "", "action": "save"}
    data.update(overrides)
    return data


def staff_client(app, role: str, email: str | None = None):
    """A test client signed in as a new staff member of ``role``."""
    email = email or f"{role}@example.com"
    with app.app_context():
        add_staff(email, role, line=1 if role == "agent" else None)
    client = app.test_client()
    login(client, email)
    return client


def article_path(app, language: str = "en", slug: str = "export-data"):
    from pathlib import Path
    return Path(app.config["ARTICLES_DIR"]) / language / f"{slug}.md"


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch):
    """These tests sign in many staff members: a cheap hash instead of scrypt (the password
    tests check the real one)."""
    monkeypatch.setattr("kb_server.console.users.hash_password",
                        lambda password: generate_password_hash(password, "pbkdf2:sha256:1000"))
