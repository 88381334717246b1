"""How a reply to the user reaches them: ``queue_reply`` now, the ``mail.deliver`` job later.

The reply (a stored ``TicketMessage``) gets its Message-ID at once (so the conversation threads
while it waits) and ``delivery`` ``queued``; the console answers without waiting for SMTP. The
job composes the e-mail (``mail.outbound``: threading headers, reply address, signed page
link, rating links on request) and sends it: over SMTP when ``MAIL_SMTP_HOST`` is set, else to
the outbox folder (the embedded default). A transient SMTP failure is retried ``MAIL_RETRIES``
times, ``MAIL_RETRY_SECONDS`` doubled each time (``retry_at`` and the last ``delivery_error``
are shown meanwhile); the end state is kept on the message: ``sent``, ``outbox`` or ``failed``
(with ``delivery_error``). A reply counts for the SLA when it is made (its first response or
an update), whatever its delivery state.
"""
from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from huey.exceptions import RetryTask
from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from kb_server import jobs
from kb_server.extensions import db
from kb_server.mail import outbound, tokens
from kb_server.models import Ticket, TicketMessage, utcnow
from kb_server.models.staff import DELIVERY_STATES

log = logging.getLogger(__name__)

QUEUED, SENT, OUTBOX, FAILED = DELIVERY_STATES
THREAD_KEPT = 20          # Message-IDs a reply's References keep


def queue_reply(ticket: Ticket, message: TicketMessage, *, thread: list[str],
                rating: bool = False) -> None:
    """Give the flushed ``message`` its Message-ID and queue its delivery (after the commit)."""
    data = {**(message.data or {}), "message_id": tokens.new_message_id(ticket.reference),
            "thread": thread[-THREAD_KEPT:]}
    if rating:
        data["rating_links"] = True
    message.data, message.delivery = data, QUEUED
    jobs.after_commit("mail.deliver", message.id)


def _record(message: TicketMessage, **changes) -> None:
    data = {key: value for key, value in (message.data or {}).items()
            if key not in ("retry_at", "delivery_error")}
    message.data = {**data, **{k: v for k, v in changes.items() if v is not None}}
    flag_modified(message, "data")


@jobs.job("mail.deliver")
def deliver(message_id: int) -> str:
    """Send a queued reply once; a transient failure is retried with backoff (``RetryTask``)."""
    message = db.session.get(TicketMessage, message_id)
    if message is None or message.delivery != QUEUED:
        return message.delivery if message else "gone"        # delivered, or erased meanwhile
    ticket = db.session.get(Ticket, message.ticket_id)
    if not ticket.email:
        message.delivery = FAILED
        _record(message, delivery_error="the ticket's e-mail address was erased")
        db.session.commit()
        return FAILED
    data = message.data or {}
    email = outbound.compose(ticket, message.body, thread=data.get("thread", []),
                             rating=bool(data.get("rating_links")), message_id=data["message_id"])
    attempt = data.get("attempts", 0) + 1
    try:
        message.delivery = SENT if outbound.send(email) == "smtp" else OUTBOX
    except outbound.MailError as exc:
        return _failed(message, ticket, exc, attempt)
    _record(message, attempts=attempt)
    db.session.commit()
    return message.delivery


def _failed(message: TicketMessage, ticket: Ticket, exc: outbound.MailError, attempt: int) -> str:
    if exc.transient and attempt <= current_app.config["MAIL_RETRIES"]:
        wait = current_app.config["MAIL_RETRY_SECONDS"] * 2 ** (attempt - 1)
        retry_at = utcnow() + dt.timedelta(seconds=wait)
        _record(message, attempts=attempt, delivery_error=str(exc),
                retry_at=retry_at.isoformat(timespec="seconds") + "Z")
        db.session.commit()
        log.warning("reply %s on %s: transient failure (%s), retry in %.0fs", message.id,
                    ticket.reference, exc, wait)
        raise RetryTask(str(exc), delay=wait)
    log.error("reply %s on %s could not be delivered: %s", message.id, ticket.reference, exc)
    message.delivery = FAILED
    _record(message, attempts=attempt, delivery_error=str(exc))
    db.session.commit()
    return FAILED


@jobs.periodic("mail.requeue", "JOBS_REQUEUE_SECONDS")
def requeue_overdue() -> int:
    """Queue again the replies still ``queued`` ``JOBS_REQUEUE_SECONDS`` after they were due
    (written, or their retry time): their job was lost. ``deliver`` sends a message once, so
    a job that was only late does no harm. Returns how many were queued."""
    before = jobs.overdue_before()
    rows = db.session.execute(select(TicketMessage.id, TicketMessage.data).where(
        TicketMessage.delivery == QUEUED, TicketMessage.created_at < before)).all()
    overdue = [row.id for row in rows
               if (row.data or {}).get("retry_at", "") < before.isoformat(timespec="seconds") + "Z"]
    for message_id in overdue:
        jobs.jobs().enqueue("mail.deliver", message_id)
    if overdue:
        log.warning("replies queued again (their delivery job was lost): %s", overdue)
    return len(overdue)
