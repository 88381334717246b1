"""Staff authentication and authorisation: passwords, personal API tokens, roles.

- Console pages: a Flask-Login session (``login_manager``); a password is a werkzeug scrypt
  hash. ``staff_page(capability)`` guards a page: anonymous -> the login page, no right -> 403.
- Staff API: ``Authorization: Bearer <personal token>``; ``token_user`` is the one place that
  checks tokens (stored as SHA-256, revocable, last use recorded). ``staff_api(capability)``
  guards an endpoint: no or bad token -> 401 JSON, no right -> 403 JSON. The API never accepts
  the session cookie, so it needs no CSRF token; only read-only endpoints that console pages
  fetch (``staff_reader``: analytics) accept the session as well.
- Rights: ``CAPABILITIES`` maps what may be done to the roles that may; an agent works only on
  tickets of its own support line or a lower one (``can_work``).
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets

from flask import abort, g, redirect, request, url_for
from flask_login import LoginManager, current_user
from werkzeug.security import check_password_hash, generate_password_hash

from kb_server.extensions import db
from kb_server.jsonapi import error_response
from kb_server.models import ApiToken, Ticket, User, utcnow

TOKEN_PREFIX = "lzt_"
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)   # how often a token's last use is written
MIN_PASSWORD_LENGTH = 10

CAPABILITIES: dict[str, tuple[str, ...]] = {
    "tickets.view": ("admin", "agent", "analyst", "editor"),   # queue and ticket pages
    "tickets.work": ("admin", "agent"),                        # every ticket action
    "users.manage": ("admin",),                                # accounts, roles, lines
    "macros.manage": ("admin",),                               # canned answers
    "webhooks.manage": ("admin",),                             # outbound webhooks, their log
    "tokens.own": ("admin", "agent", "analyst", "editor"),     # one's own API tokens
    "articles.flag": ("admin", "agent"),                       # flag an article from a ticket
    "flags.manage": ("admin", "editor"),                       # see and resolve article flags
    "articles.view": ("admin", "agent", "analyst", "editor"),  # articles list, revisions
    "articles.edit": ("admin", "agent", "editor"),             # drafts (KCS: anyone who answers)
    "articles.publish": ("admin", "editor"),                   # validate, publish, archive
    "analytics.view": ("admin", "analyst"),                    # dashboard, its JSON and CSV
}

login_manager = LoginManager()
login_manager.login_view = "console.login"
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


# --- passwords ---------------------------------------------------------------------------------
def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def password_problem(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    return None


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password (constant work for unknown e-mails)."""
    user = db.session.scalar(db.select(User).filter_by(email=email.strip().lower()))
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)    # same cost as a real check
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    return user


_DUMMY_HASH = generate_password_hash(secrets.token_hex(8), method="scrypt")


# --- tokens ------------------------------------------------------------------------------------
def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str = "", secret: str | None = None) -> str:
    """A new personal token of ``user`` (committed); returns it: only its hash is stored.
    ``secret`` fixes the token's text (tests, migrations of an old shared token)."""
    token = secret or TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, name=name[:100], token_hash=_digest(token),
                            prefix=token[:len(TOKEN_PREFIX) + 4]))
    db.session.commit()
    return token


def token_user(header: str) -> User | None:
    """The active user whose unrevoked token is in the ``Authorization: Bearer`` header."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return None
    row = db.session.scalar(db.select(ApiToken).filter_by(token_hash=_digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
        db.session.commit()
    return user


# --- rights ------------------------------------------------------------------------------------
def can(user, capability: str) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and user.is_active and user.role in CAPABILITIES[capability])


def can_work(user, ticket: Ticket) -> bool:
    """Whether ``user`` may act on ``ticket``: admins always, agents on their line or lower."""
    if not can(user, "tickets.work"):
        return False
    return user.role == "admin" or (user.line or 0) >= ticket.line


def staff() -> User:
    """The staff member of this request (API token or console session)."""
    return g.get("staff") or current_user


def staff_page(capability: str):
    """Decorator of console pages: logged in (else the login page) and allowed (else 403)."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
            if not can(current_user, capability):
                abort(403)
            g.staff = current_user._get_current_object()
            return view(*args, **kwargs)
        return wrapper
    return decorator


def _refused(user, capability: str):
    """The JSON refusal for ``user`` (None: not signed in) lacking ``capability``, or None."""
    if user is None:
        response = error_response("a valid personal API token is required "
                                  "(Authorization: Bearer ...; kb user token EMAIL)", 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="linezero"'
        return response
    if not can(user, capability):
        return error_response(f"the {user.role} role may not do this", 403)
    return None


def _guarded(capability: str, find_user):
    """A decorator of JSON endpoints: the user ``find_user()`` names must exist (401) and hold
    ``capability`` (403); the view finds it in ``g.staff``."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = find_user()
            refusal = _refused(user, capability)
            if refusal is not None:
                return refusal
            g.staff = user
            return view(*args, **kwargs)
        return wrapper
    return decorator


def _token_holder() -> User | None:
    return token_user(request.headers.get("Authorization", ""))


def _token_holder_or_session_user() -> User | None:
    if request.headers.get("Authorization"):
        return _token_holder()
    return current_user._get_current_object() if current_user.is_authenticated else None


def staff_api(capability: str):
    """Decorator of staff API endpoints: a valid personal token (401) with the right (403)."""
    return _guarded(capability, _token_holder)


def staff_reader(capability: str):
    """Decorator of read-only (GET) staff endpoints that the console's pages also fetch: a
    personal token when the request has an ``Authorization`` header, else the console session
    (a GET changes nothing, so it needs no CSRF token); 401 / 403 JSON otherwise."""
    return _guarded(capability, _token_holder_or_session_user)
