"""The audit trail as people read it: each entry's action as a phrase and its changes as
"field: before → after" in the agent's language, with names for ids, labels for statuses,
classes and roles, and "—" for nothing. A merge shows the tickets merged in, not the raw
context it copied (``console.actions.merge``)."""
from __future__ import annotations

from kb_server.console.strings import STRINGS, class_label, translate
from kb_server.extensions import db
from kb_server.models import AuditEntry, User

NOTHING = "—"
MERGED_FIELDS = ("context", "gap", "gap_users")   # what a merge copies: summarised, not listed
FIELD_KEYS = {"status": "status", "line": "line", "request_class": "class", "priority": "priority",
              "assignee_id": "assignee", "pending_reason": "pending_reason", "facts": "h_facts_field",
              "outside_party": "outside_party", "outside_reference": "outside_reference",
              "merged_into_id": "merged_into", "first_response_at": "first_response_at",
              "resolved_at": "h_resolved_at", "sla_first_response_due": "first_response_due",
              "sla_resolution_due": "h_resolution_due", "email": "email", "name": "name",
              "role": "role", "active": "active", "article": "h_article", "relation": "h_relation",
              "flag": "h_flag_field", "notified": "h_notified", "password": "password",
              "token": "h_token", "url": "webhook_url", "events": "webhook_events",
              "description": "description", "state": "state", "secret": "webhook_secret"}


def action_label(action: str) -> str:
    """``take`` -> "took the ticket" / "взял(а) заявку"; an unknown action as it is."""
    key = "h_" + action.replace("-", "_")
    return translate(key) if key in STRINGS else action


def field_label(field: str) -> str:
    key = FIELD_KEYS.get(field)
    return translate(key) if key else field


def value_text(field: str, value) -> str:
    """A recorded value for people: a name for a user id, labels for statuses, classes and
    roles, yes/no, the time in UTC, "—" for nothing."""
    if value is None or value == "" or value == {} or value == []:
        return NOTHING
    if isinstance(value, bool):
        return translate("yes" if value else "no")
    if field == "secret":                  # never recorded: only that a new one was set
        return translate("h_secret_new")
    if field == "assignee_id":
        user = db.session.get(User, value) if isinstance(value, int) else None
        return user.display_name if user else str(value)
    if field == "status" and f"status_{value}" in STRINGS:
        return translate(f"status_{value}")
    if field == "request_class":
        return class_label(str(value))
    if field == "role" and f"role_{value}" in STRINGS:
        return translate(f"role_{value}")
    if field == "pending_reason" and f"pending_{value}" in STRINGS:
        return translate(f"pending_{value}")
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T" and value.endswith("Z"):
        return value[:16].replace("T", " ") + " UTC"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def merged_in(entry: AuditEntry) -> list[str]:
    """The references a ``merge_in`` entry brought in."""
    before = {m.get("reference") for m in (entry.before.get("context") or {}).get("merged", [])}
    return [m.get("reference", "") for m in (entry.after.get("context") or {}).get("merged", [])
            if m.get("reference") not in before]


def describe(entry: AuditEntry) -> dict:
    """An entry for the page: ``action`` (a phrase) and ``changes`` ("field: before → after")."""
    changes = []
    if entry.action == "merge_in":
        changes.append(translate("h_merged_in", references=", ".join(merged_in(entry)) or NOTHING))
    for field, value in entry.after.items():
        if field in ("facts",) or (entry.action == "merge_in" and field in MERGED_FIELDS):
            continue
        before = entry.before.get(field)
        changes.append(f"{field_label(field)}: {value_text(field, before)} → {value_text(field, value)}"
                       if field in entry.before else f"{field_label(field)}: {value_text(field, value)}")
    return {"at": entry.at, "actor": entry.actor, "action": action_label(entry.action),
            "changes": changes, "entity_id": entry.entity_id}
