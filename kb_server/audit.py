"""The audit trail: every change to a ticket, user or setting, with who, when, what, and the
changed fields before and after. ``record`` adds the entry to the caller's transaction, so a
change and its audit entry are committed together or not at all."""
from __future__ import annotations

import datetime as dt

from kb_server.extensions import db
from kb_server.models import AuditEntry, utcnow


def _plain(value):
    return value.isoformat() + "Z" if isinstance(value, dt.datetime) else value


def snapshot(obj, fields) -> dict:
    """The JSON-able values of ``fields`` of ``obj``."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def record(actor, entity: str, entity_id, action: str, before: dict | None = None,
           after: dict | None = None) -> AuditEntry:
    """Add an audit entry; ``actor`` is a ``User`` or a label ("cli", "system"). Only the
    fields that changed are kept of ``before``/``after``."""
    before, after = dict(before or {}), dict(after or {})
    for name in set(before) & set(after):
        if before[name] == after[name]:
            del before[name], after[name]
    label = actor if isinstance(actor, str) else actor.email
    entry = AuditEntry(actor_id=None if isinstance(actor, str) else actor.id, actor=label,
                       entity=entity, entity_id=str(entity_id), action=action,
                       before=before, after=after, at=utcnow())
    db.session.add(entry)
    return entry


def history(entity: str, entity_id) -> list[AuditEntry]:
    return list(db.session.scalars(db.select(AuditEntry)
                                   .filter_by(entity=entity, entity_id=str(entity_id))
                                   .order_by(AuditEntry.id)))


def recent(entity: str, limit: int = 30) -> list[AuditEntry]:
    return list(db.session.scalars(db.select(AuditEntry).filter_by(entity=entity)
                                   .order_by(AuditEntry.id.desc()).limit(limit)))
