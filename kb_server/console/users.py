"""Staff accounts: create, change, deactivate; personal API tokens. Every change is audited."""
from __future__ import annotations

import re

from kb_server import audit
from kb_server.auth import MIN_PASSWORD_LENGTH, create_token, hash_password, password_problem
from kb_server.console.strings import SaidError
from kb_server.extensions import db
from kb_server.models import ApiToken, User, utcnow
from kb_server.models.staff import ROLES
from kb_server.models.tickets import LINES

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}$")
FIELDS = ("email", "name", "role", "line", "active")


class UserError(SaidError, ValueError):
    """A request about an account that cannot be done (the message says why)."""


def _check_role(role: str, line: int | None) -> int | None:
    if role not in ROLES:
        raise UserError("err_role", roles=", ".join(ROLES))
    if role == "agent":
        if line not in LINES:
            raise UserError("err_agent_line")
        return line
    return None


def get_by_email(email: str) -> User | None:
    return db.session.scalar(db.select(User).filter_by(email=email.strip().lower()))


def add_user(actor, email: str, role: str, password: str, line: int | None = None,
             name: str = "") -> User:
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise UserError("err_email", email=email)
    if get_by_email(email) is not None:
        raise UserError("err_user_exists", email=email)
    line = _check_role(role, line)
    problem = password_problem(password)
    if problem:
        raise UserError("err_password", n=MIN_PASSWORD_LENGTH)
    user = User(email=email, name=name.strip()[:200], role=role, line=line,
                password_hash=hash_password(password), active=True)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user", user.id, "create", {}, audit.snapshot(user, FIELDS))
    db.session.commit()
    return user


def update_user(actor, user: User, *, role: str | None = None, line: int | None = None,
                name: str | None = None, active: bool | None = None,
                password: str | None = None) -> User:
    """Change an account; an admin cannot demote or deactivate the last active admin."""
    before = audit.snapshot(user, FIELDS)
    new_role = role or user.role
    new_line = _check_role(new_role, line if line is not None else user.line)
    new_active = user.active if active is None else active
    if user.role == "admin" and (new_role != "admin" or not new_active) and _last_admin(user):
        raise UserError("err_last_admin")
    user.role, user.line, user.active = new_role, new_line, new_active
    if name is not None:
        user.name = name.strip()[:200]
    after = audit.snapshot(user, FIELDS)
    if password:
        problem = password_problem(password)
        if problem:
            raise UserError("err_password", n=MIN_PASSWORD_LENGTH)
        user.password_hash = hash_password(password)
        before["password"], after["password"] = "(old)", "(changed)"
    audit.record(actor, "user", user.id, "update", before, after)
    db.session.commit()
    return user


def _last_admin(user: User) -> bool:
    others = db.session.scalar(db.select(db.func.count()).select_from(User).where(
        User.role == "admin", User.active.is_(True), User.id != user.id))
    return not others


def new_token(actor, user: User, name: str = "") -> str:
    token = create_token(user, name)
    audit.record(actor, "user", user.id, "token_create", {}, {"token": token[:8], "name": name})
    db.session.commit()
    return token


def tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(db.select(ApiToken).filter_by(user_id=user.id)
                                   .order_by(ApiToken.id.desc())))


def revoke_token(actor, user: User, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise UserError("err_no_token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(actor, "user", user.id, "token_revoke", {"token": token.prefix},
                     {"token": token.prefix + " (revoked)"})
        db.session.commit()
    return token


def all_users() -> list[User]:
    return list(db.session.scalars(db.select(User).order_by(User.role, User.line, User.email)))


def agents() -> list[User]:
    return list(db.session.scalars(db.select(User).filter_by(active=True)
                                   .where(User.role.in_(("admin", "agent")))
                                   .order_by(User.line, User.email)))
