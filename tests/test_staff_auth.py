"""Staff accounts, passwords, console sessions, personal API tokens, `kb user`, user admin."""
from __future__ import annotations

import re

import pytest

from kb_server import create_app
from kb_server.cli import main
from kb_server.extensions import db
from kb_server.models import ApiToken, AuditEntry, User
from conftest import app_config
from staff_helpers import PASSWORD, STAFF_ADMIN, add_staff, bearer, login
from tickets_helpers import STAFF


def user(app, email: str) -> User:
    with app.app_context():
        found = db.session.scalar(db.select(User).filter_by(email=email))
        db.session.expunge(found)
        return found


# --- kb user -----------------------------------------------------------------------------------
def test_kb_user_add_reads_the_password_from_stdin_and_hashes_it(app, runner):
    result = runner.invoke(main, ["user", "add", "Anna@Example.com", "--role", "agent", "--line", "2",
                                  "--password-stdin"], input="a long secret phrase\n")
    assert result.exit_code == 0, result.output
    anna = user(app, "anna@example.com")
    assert (anna.role, anna.line, anna.active) == ("agent", 2, True)
    assert anna.password_hash.startswith("scrypt:") and "a long secret" not in anna.password_hash
    client = app.test_client()
    assert login(client, "anna@example.com", "a long secret phrase").status_code == 302
    listing = runner.invoke(main, ["user", "list"]).output
    assert re.search(r"anna@example\.com\s+agent\s+line 2", listing)


def test_kb_user_add_prompts_for_the_password(app, runner):
    result = runner.invoke(main, ["user", "add", "boss@example.com", "--role", "admin"],
                           input="another long secret\nanother long secret\n")
    assert result.exit_code == 0, result.output
    assert user(app, "boss@example.com").role == "admin"


@pytest.mark.parametrize("args, stdin, message", [
    (["--role", "agent"], "long enough password\n", "needs a support line"),
    (["--role", "admin"], "short\n", "at least 10 characters"),
    (["--role", "wizard"], "long enough password\n", "Invalid value for '--role'"),
    (["--role", "editor", "--line", "3"], "long enough password\n",
     "only agents work on a support line (not the role editor)"),
])
def test_kb_user_add_refuses_bad_accounts(runner, args, stdin, message):
    result = runner.invoke(main, ["user", "add", "x@example.com", *args, "--password-stdin"], input=stdin)
    assert result.exit_code != 0 and message in result.output


def test_kb_user_add_refuses_a_second_account_with_the_same_email(runner):
    result = runner.invoke(main, ["user", "add", STAFF_ADMIN.upper(), "--role", "admin",
                                  "--password-stdin"], input="long enough password\n")
    assert result.exit_code == 1 and "already exists" in result.output


def test_kb_user_token_prints_a_working_token_stored_hashed(app, runner, client):
    result = runner.invoke(main, ["user", "token", STAFF_ADMIN, "--name", "script"])
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("lzt_") and len(token) > 40
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200 and me.get_json()["user"]["email"] == STAFF_ADMIN
    with app.app_context():
        stored = db.session.scalar(db.select(ApiToken).filter_by(name="script"))
        assert token not in (stored.token_hash, stored.prefix) and stored.last_used_at is not None
    assert runner.invoke(main, ["user", "token", "nobody@example.com"]).exit_code == 1


# --- tokens ------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-token"},
                                     {"Authorization": "Basic test-token"}, {"Authorization": "Bearer "},
                                     {"Authorization": "Bearer test-token-and-more"}])
def test_the_staff_api_needs_a_personal_token(client, headers):
    response = client.get("/api/v1/tickets", headers=headers)
    assert response.status_code == 401 and response.get_json()["status"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_and_a_deactivated_users_token_stop_working(app, client):
    with app.app_context():
        token = add_staff("agent@example.com", "agent", line=1)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    login(client, "agent@example.com")
    page = client.get("/console/account").get_data(as_text=True)
    token_id = re.search(r"/console/account/tokens/(\d+)/revoke", page).group(1)
    assert client.post(f"/console/account/tokens/{token_id}/revoke").status_code == 302
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    with app.app_context():
        other = add_staff("agent2@example.com", "agent", line=1)
    agent2 = user(app, "agent2@example.com")
    admin = app.test_client()
    login(admin, STAFF_ADMIN)
    admin.post(f"/console/users/{agent2.id}", data={"role": "agent", "line": "1"})  # active unticked
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 401
    assert login(app.test_client(), "agent2@example.com").status_code == 401


def test_tokens_are_created_in_the_console_and_shown_once(client):
    login(client, STAFF_ADMIN)
    page = client.post("/console/account/tokens", data={"name": "laptop"}).get_data(as_text=True)
    token = re.search(r"data-new-token>([^<]+)<", page).group(1)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert token not in client.get("/console/account").get_data(as_text=True)


def test_a_user_cannot_revoke_someone_elses_token(app, client):
    with app.app_context():
        add_staff("agent@example.com", "agent", line=1)
        admin_token = db.session.scalar(db.select(ApiToken).join(User).where(User.email == STAFF_ADMIN))
        token_id = admin_token.id
    login(client, "agent@example.com")
    assert client.post(f"/console/account/tokens/{token_id}/revoke").status_code == 404
    assert client.get("/api/v1/me", headers=STAFF).status_code == 200


# --- console login -----------------------------------------------------------------------------
def test_login_logout_and_wrong_passwords(client):
    assert client.get("/console/").status_code == 302
    assert client.get("/console/").headers["Location"].startswith("/console/login?next=")
    assert login(client, STAFF_ADMIN, "wrong password!").status_code == 401
    assert login(client, "nobody@example.com").status_code == 401
    response = login(client, STAFF_ADMIN)
    assert response.status_code == 302 and response.headers["Location"] == "/console/"
    assert client.get("/console/").status_code == 200
    client.post("/console/logout")
    assert client.get("/console/").status_code == 302


@pytest.mark.parametrize("target, expected", [("/console/users", "/console/users"),
                                              ("https://evil.example/", "/console/"),
                                              ("//evil.example/", "/console/")])
def test_login_returns_only_to_a_local_page(client, target, expected):
    response = client.post("/console/login", query_string={"next": target},
                           data={"email": STAFF_ADMIN, "password": PASSWORD})
    assert response.headers["Location"] == expected


def test_session_cookie_is_httponly_samesite_and_secure_when_configured(app, tmp_path):
    cookie = login(app.test_client(), STAFF_ADMIN).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = create_app(app_config(tmp_path, SESSION_COOKIE_SECURE=True))
    cookie = login(secure.test_client(), STAFF_ADMIN).headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_login_is_throttled_per_client_and_per_account(app, tmp_path):
    limited = create_app(app_config(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3/minute"))
    client = limited.test_client()
    statuses = [login(client, STAFF_ADMIN, "wrong password!").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    other_address = limited.test_client()   # the same account from another address
    response = other_address.post("/console/login", data={"email": STAFF_ADMIN, "password": PASSWORD},
                                  environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 429


def test_every_console_form_needs_the_csrf_token(app, tmp_path):
    protected = create_app(app_config(tmp_path, WTF_CSRF_ENABLED=True))
    client = protected.test_client()
    assert login(client, STAFF_ADMIN).status_code == 400          # no token
    page = client.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/console/login", data={"email": STAFF_ADMIN, "password": PASSWORD,
                                                   "csrf_token": token})
    assert response.status_code == 302
    assert client.post("/console/users", data={"email": "x@example.com", "role": "admin",
                                               "password": "long enough password"}).status_code == 400
    assert client.get("/api/v1/me", headers=STAFF).status_code == 200   # the API: token, no CSRF


# --- user administration -----------------------------------------------------------------------
def test_admin_adds_and_changes_users_and_every_change_is_audited(app, client):
    login(client, STAFF_ADMIN)
    response = client.post("/console/users", data={"email": "lena@example.com", "name": "Lena",
                                                   "role": "agent", "line": "1",
                                                   "password": "long enough password"})
    assert response.status_code == 302
    lena = user(app, "lena@example.com")
    client.post(f"/console/users/{lena.id}", data={"role": "agent", "line": "3", "name": "Lena K",
                                                   "active": "on", "password": "a brand new password"})
    lena = user(app, "lena@example.com")
    assert (lena.line, lena.name) == (3, "Lena K")
    assert login(app.test_client(), "lena@example.com", "a brand new password").status_code == 302
    with app.app_context():
        entries = db.session.scalars(db.select(AuditEntry).filter_by(entity="user", entity_id=str(lena.id))
                                     .order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == ["create", "update"]
        assert entries[1].actor == STAFF_ADMIN
        assert entries[1].before == {"line": 1, "name": "Lena", "password": "(old)"}
        assert entries[1].after == {"line": 3, "name": "Lena K", "password": "(changed)"}
        assert "long enough" not in str(entries[0].after)
    assert "lena@example.com" in client.get("/console/users").get_data(as_text=True)


def test_the_last_admin_cannot_be_demoted(app, client):
    login(client, STAFF_ADMIN)
    admin = user(app, STAFF_ADMIN)
    client.post(f"/console/users/{admin.id}", data={"role": "analyst", "active": "on"})
    assert user(app, STAFF_ADMIN).role == "admin"
    assert "last active admin" in client.get("/console/users").get_data(as_text=True)


def test_users_api_creates_and_changes_accounts(client):
    created = client.post("/api/v1/users", headers=STAFF, json={
        "email": "ivan@example.com", "role": "agent", "line": 2, "password": "long enough password"})
    assert created.status_code == 201 and created.get_json()["user"]["line"] == 2
    user_id = created.get_json()["user"]["id"]
    changed = client.patch(f"/api/v1/users/{user_id}", headers=STAFF, json={"line": 3})
    assert changed.get_json()["user"]["line"] == 3
    for bad in ({"line": "x"}, {"active": "yes"}, {"name": 5}, {"role": "wizard"}):
        assert client.patch(f"/api/v1/users/{user_id}", headers=STAFF, json=bad).status_code == 400
    assert client.post("/api/v1/users", headers=STAFF, json={"email": "bad", "role": "admin",
                                                             "password": "long enough password"}).status_code == 400
    assert client.patch("/api/v1/users/999", headers=STAFF, json={}).status_code == 404
