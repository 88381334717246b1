"""Canned answers (macros): a reply text with ``{placeholders}`` filled from the ticket.

Placeholders: ``{name}`` (the user's name, else "there"), ``{email}``, ``{reference}``,
``{subject}``, ``{agent}`` (the replying staff member), ``{line}``. An unknown placeholder is
left as it is. Macros are settings: creating, changing and deleting them is audited.
"""
from __future__ import annotations

import re

from kb_server import audit
from kb_server.console.queue import row_id
from kb_server.console.strings import SaidError
from kb_server.extensions import db
from kb_server.models import Macro, Ticket, User

PLACEHOLDER = re.compile(r"\{(\w+)\}")
PLACEHOLDERS = ("name", "email", "reference", "subject", "agent", "line")
MAX_NAME, MAX_BODY = 100, 20_000


class MacroError(SaidError, ValueError):
    """A canned answer that cannot be saved (the message says why)."""


SUPPORT_TEAM = {"en": "Support team", "ru": "Служба поддержки", "uk": "Служба підтримки"}
NAME_ALONE = re.compile(r"^\{name\}[,:]?[ \t]*|[ \t]*,?[ \t]*\{name\}", re.MULTILINE)


def render(body: str, ticket: Ticket, agent: User) -> str:
    """The canned answer for this ticket. Without the user's name its placeholder goes with the
    comma before it ("Здравствуйте, {name}!" -> "Здравствуйте!"); an agent without a display
    name signs as the support team, in the ticket's language."""
    if not ticket.name:
        body = NAME_ALONE.sub("", body)
    values = {"name": ticket.name, "email": ticket.email,
              "reference": ticket.reference or "", "subject": ticket.subject,
              "agent": agent.name or SUPPORT_TEAM.get(ticket.language, SUPPORT_TEAM["en"]),
              "line": str(ticket.line)}
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def all_macros() -> list[Macro]:
    return list(db.session.scalars(db.select(Macro).order_by(Macro.name)))


def get(macro_id) -> Macro | None:
    found = row_id(macro_id)
    return db.session.get(Macro, found) if found else None


def save(actor, name: str, body: str, macro: Macro | None = None) -> Macro:
    name, body = name.strip(), body.strip()
    if not name or not body:
        raise MacroError("err_macro_empty")
    if len(name) > MAX_NAME or len(body) > MAX_BODY:
        raise MacroError("err_macro_long", name=MAX_NAME, body=MAX_BODY)
    clash = db.session.scalar(db.select(Macro).filter_by(name=name))
    if clash is not None and clash is not macro:
        raise MacroError("err_macro_exists", name=name)
    before = audit.snapshot(macro, ("name", "body")) if macro else {}
    if macro is None:
        macro = Macro(name=name, body=body)
        db.session.add(macro)
        db.session.flush()
    macro.name, macro.body = name, body
    audit.record(actor, "setting", f"macro:{macro.id}", "save" if before else "create",
                 before, audit.snapshot(macro, ("name", "body")))
    db.session.commit()
    return macro


def delete(actor, macro: Macro) -> None:
    audit.record(actor, "setting", f"macro:{macro.id}", "delete",
                 audit.snapshot(macro, ("name", "body")), {})
    db.session.delete(macro)
    db.session.commit()
