"""Staff accounts for the tests: the template database has an admin whose API token is
``test-token`` (``tickets_helpers.STAFF``); ``add_staff`` makes more, ``login`` signs a test
client in to the console."""
from __future__ import annotations

from kb_server.auth import create_token
from kb_server.console import users

STAFF_ADMIN = "admin@example.com"
PASSWORD = "correct horse battery"


def add_staff(email: str, role: str, line: int | None = None, token: str | None = None):
    """A staff account (in an app context); returns its API token (``token`` or a new one)."""
    user = users.add_user("test", email, role, PASSWORD, line=line, name=email.split("@")[0].title())
    return create_token(user, "test", secret=token)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def login(client, email: str, password: str = PASSWORD):
    return client.post("/console/login", data={"email": email, "password": password})
