"""The SLA applied to stored tickets: ``check_tickets`` (``kb tickets sla-check`` from cron, or
the periodic job ``sla.check`` every ``SLA_CHECK_SECONDS``, see ``kb_server.jobs``).

For each ticket not resolved or closed: its ``TicketClock`` (``ticket_clock``), the state and
due times stored on the ticket (``sla_state``, ``sla_next_due``, the due-time columns), and the
actions ``sla_actions`` decides, each taken once (their keys are kept in ``sla_fired``):

- ``notify``: an e-mail to ``SLA_NOTIFY_EMAIL`` (or a log line when it is unset);
- ``raise_priority``: one step up (P3 -> P2), never above the highest;
- ``escalate``: to the next support line (at most 4).

A ticket's clock is fed from the console's audit trail (every status change, who and when),
completed by the ticket's current status when it changed unaudited; a pending ticket's status is
``pending_user`` or ``pending_third_party`` for the SLA (``SLA_PAUSE_STATUSES`` decides which
pause the clock). ``store_state`` keeps the stored columns fresh on every ticket change (the
console's actions, a user's reply); ``check_tickets`` also moves them on as time passes and takes
the actions (``ACTION_HANDLERS`` maps an action to the function that takes it).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from email.message import EmailMessage
from typing import Callable

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm.attributes import flag_modified

from kb_server import audit, jobs, webhooks
from kb_server.extensions import db
from kb_server.mail import outbound
from kb_server.models.base import utcnow
from kb_server.models.staff import TicketMessage
from kb_server.models.tickets import LINES, Ticket
from kb_server.tickets import sla

log = logging.getLogger(__name__)

def clock_status(status: str, pending_reason: str = "") -> str:
    """The status the SLA sees: a pending ticket waits on the user or on a third party."""
    return f"pending_{pending_reason}" if status == "pending" and pending_reason else status


def status_history(ticket: Ticket) -> list[sla.StatusChange]:
    """The ticket's status changes after creation, from its audit trail."""
    history: list[sla.StatusChange] = []
    status, reason = "new", ""
    for entry in audit.history("ticket", ticket.reference):
        after = entry.after or {}
        if "status" in after or "pending_reason" in after:
            status, reason = after.get("status", status), after.get("pending_reason", reason) or ""
            history.append(sla.StatusChange(entry.at, clock_status(status, reason)))
    current = clock_status(ticket.status, ticket.pending_reason)
    if (history[-1].status if history else "new") != current:       # changed without audit
        history.append(sla.StatusChange(ticket.status_changed_at or ticket.updated_at, current))
    return history


def agent_reply_times(ticket: Ticket) -> list[dt.datetime]:
    """When staff replied to the user (first response and updates), whatever the delivery
    state of the e-mail: the answer was given when it was made."""
    return list(db.session.scalars(select(TicketMessage.created_at).where(
        TicketMessage.ticket_id == ticket.id, TicketMessage.kind == "reply")))


def ticket_clock(ticket: Ticket) -> sla.TicketClock:
    replies = set(agent_reply_times(ticket))
    if ticket.first_response_at:
        replies.add(ticket.first_response_at)
    return sla.TicketClock(priority=ticket.priority, created_at=ticket.created_at,
                           request_class=ticket.request_class, kind=ticket.kind,
                           history=status_history(ticket),
                           replies=sorted(replies), fired=frozenset(ticket.sla_fired or []))


# --- actions -------------------------------------------------------------------------------------
def notify(ticket: Ticket, action: sla.SlaAction) -> None:
    summary = f"[{ticket.reference}] SLA {action.target.replace('_', ' ')} {action.level.replace('_', ' ')}"
    address = current_app.config["SLA_NOTIFY_EMAIL"]
    log.warning("%s (priority %s, line %d)", summary, ticket.priority, ticket.line)
    if not address:
        return
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = summary, current_app.config["MAIL_FROM"], address
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(f"{summary}\n\n{ticket.subject}\npriority {ticket.priority}, line "
                        f"{ticket.line}, status {ticket.status}\n")
    outbound.send(message)


def raise_priority(ticket: Ticket, action: sla.SlaAction) -> None:
    ordered = sla.priorities()
    if ticket.priority in ordered and ordered.index(ticket.priority) > 0:
        ticket.priority = ordered[ordered.index(ticket.priority) - 1]


def escalate(ticket: Ticket, action: sla.SlaAction) -> None:
    ticket.line = min(ticket.line + 1, LINES[-1])


CHANGES_TICKET = ("raise_priority", "escalate")
WEBHOOK_EVENTS = {"raise_priority": "ticket.updated", "escalate": "ticket.escalated"}
ACTION_HANDLERS: dict[str, Callable[[Ticket, sla.SlaAction], None]] = {
    "notify": notify, "raise_priority": raise_priority, "escalate": escalate}


# --- checking ------------------------------------------------------------------------------------
def store_state(ticket: Ticket, now: dt.datetime | None = None, rules: sla.Policy | None = None,
                clock: sla.TicketClock | None = None) -> sla.SlaStatus:
    """Store the ticket's SLA state and due times at ``now`` (``sla_state``, ``sla_next_due``:
    what the queue filters and sorts by)."""
    status = sla.evaluate(clock or ticket_clock(ticket), now or utcnow(), rules)
    ticket.sla_state, ticket.sla_next_due = status.state, status.next_due
    for target, column in (("first_response", "sla_first_response_due"),
                           ("resolution", "sla_resolution_due")):
        measure = status.measures.get(target)
        if measure is None:          # no such target (a gap ticket's first response)
            setattr(ticket, column, None)
        elif measure.due is not None:
            setattr(ticket, column, measure.due)
    return status


def refresh(ticket: Ticket, now: dt.datetime, rules: sla.Policy) -> tuple[sla.SlaStatus, list[sla.SlaAction]]:
    """Store the ticket's SLA state at ``now`` and take the actions due; what was found."""
    clock = ticket_clock(ticket)
    status = store_state(ticket, now, rules, clock)
    taken = [action for action in sla.sla_actions(clock, now, rules) if _take(ticket, action)]
    if taken:
        ticket.sla_fired = [*(ticket.sla_fired or []), *(action.key for action in taken)]
    if not any(action.kind in CHANGES_TICKET for action in taken):
        flag_modified(ticket, "updated_at")    # a state refresh is not activity on the ticket
    for action in taken:
        if action.kind in WEBHOOK_EVENTS:
            webhooks.emit(WEBHOOK_EVENTS[action.kind], ticket,
                          {"action": f"sla.{action.kind}", "by": "sla", "sla": action.key})
    return status, taken


def _take(ticket: Ticket, action: sla.SlaAction) -> bool:
    """Take one action; False (to retry on the next check) if its e-mail could not be sent."""
    try:
        ACTION_HANDLERS[action.kind](ticket, action)
    except outbound.MailError:
        log.exception("SLA action %s on %s failed", action.kind, ticket.reference)
        return False
    return True


def _tickets_to_check() -> list[Ticket]:
    """Tickets not resolved or closed, and those resolved since the last check."""
    return db.session.scalars(select(Ticket).where(or_(
        Ticket.status.not_in(sla.DONE_STATUSES), Ticket.sla_state.in_(sla.RUNNING_STATES)))
        .order_by(Ticket.id)).all()


def check_tickets(now: dt.datetime | None = None) -> dict[str, int]:
    """Refresh every ticket that is not resolved or closed (and, once more, those resolved since
    the last check, so they show ``met`` or ``missed``); counts of states and actions."""
    now = now or utcnow()
    rules = sla.policy()
    counts: Counter[str] = Counter()
    for ticket in _tickets_to_check():
        status, actions = refresh(ticket, now, rules)
        counts[status.state or "none"] += 1
        counts.update(f"action {action.kind}" for action in actions)
        db.session.commit()
    return dict(counts)


def preview_tickets(now: dt.datetime) -> dict[str, int]:
    """What ``check_tickets(now)`` would find and do, without writing anything (``kb tickets
    sla-check --now``): a check at another time must not store states or take actions, or the
    real breach later would find its actions already fired."""
    rules = sla.policy()
    counts: Counter[str] = Counter()
    for ticket in _tickets_to_check():
        clock = ticket_clock(ticket)
        counts[sla.evaluate(clock, now, rules).state or "none"] += 1
        counts.update(f"action {action.kind}" for action in sla.sla_actions(clock, now, rules))
    db.session.rollback()
    return dict(counts)


@jobs.periodic("sla.check", "SLA_CHECK_SECONDS")
def periodic_check() -> dict[str, int]:
    """The SLA check as a periodic job (breaches are noticed without cron)."""
    counts = check_tickets()
    log.info("SLA check: %s", counts)
    return counts
