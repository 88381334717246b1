"""A ticket's conversation with its user, and the two ways into it.

- ``deliver(reply)``: a user's reply (by e-mail or on the ticket page) lands in its ticket: kept
  in the conversation with its attachments, and a ticket waiting on the user (or resolved) is
  open again. A closed ticket keeps its status (the reply is still kept for staff to see).
- ``open_ticket(request)``: a person's new message to the support address (no ticket token
  or thread) becomes a contact ticket whose conversation starts with that message (once per
  Message-ID).
- ``reply_to_user(ticket, body)``: a staff answer (the console's and the staff API's reply
  action): kept in the conversation, its e-mail queued as a job (``tickets.delivery``: SMTP, or
  the outbox folder); a delivered first reply is the ticket's first response.

The conversation is the console's ``TicketMessage`` table (one store): the user's messages
(kind ``user``) and the replies to the user (kind ``reply``) are its entries; internal notes,
escalations and system lines live in the same table but are never shown to the user.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
from pathlib import Path

from flask import abort, current_app, send_from_directory
from sqlalchemy import func, select

from kb_server import audit
from kb_server.extensions import db
from kb_server.mail.inbound import Ignored, InboundReply, NewRequest, UserMessage
from kb_server.models.base import utcnow
from kb_server.models.staff import TicketMessage, User
from kb_server.models.tickets import Ticket, iso
from kb_server.tickets import delivery, service, sla_watch

log = logging.getLogger(__name__)

REOPENED_BY_USER = ("pending", "resolved")
REOPEN_FIELDS = ("status", "pending_reason", "resolved_at")
CONVERSATION_KINDS = ("user", "reply")


def as_entry(message: TicketMessage) -> dict:
    """A message as a conversation entry: ``at`` (ISO UTC), ``author`` (``user`` | ``agent``),
    ``via`` (``email`` | ``link``), ``text``, ``message_id``, ``attachments``
    (``[{name, content_type, size, path}]``), ``refused`` (``[{name, reason}]``); the user's
    ``sender``, or the agent's ``staff`` and ``delivery`` state."""
    data = message.data or {}
    user = message.kind == "user"
    entry = {"at": iso(message.created_at), "author": "user" if user else "agent",
             "via": data.get("via", "email"), "text": message.body,
             "message_id": data.get("message_id", ""),
             "attachments": data.get("attachments", []), "refused": data.get("refused", [])}
    if user:
        entry["sender"] = message.author
    else:
        entry.update(staff=message.author, delivery=message.delivery)
    return entry


def messages(ticket: Ticket) -> list[TicketMessage]:
    """The messages exchanged with the user, oldest first."""
    return list(db.session.scalars(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket.id,
                                    TicketMessage.kind.in_(CONVERSATION_KINDS))
        .order_by(TicketMessage.created_at, TicketMessage.id)))


def entries(ticket: Ticket) -> list[dict]:
    """The conversation as the user's ticket page and the tests read it."""
    return [as_entry(message) for message in messages(ticket)]


def thread_ids(ticket: Ticket) -> list[str]:
    """The conversation's Message-IDs, oldest first (``References`` of the next message)."""
    return [m.data["message_id"] for m in messages(ticket)
            if (m.data or {}).get("message_id") and m.delivery != delivery.FAILED]


# --- the user's replies --------------------------------------------------------------------------
def _save_attachments(reference: str, reply: UserMessage) -> list[dict]:
    folder = Path(current_app.config["MAIL_ATTACHMENTS_DIR"]) / reference
    saved = []
    for attachment in reply.attachments:
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(attachment.data).hexdigest()[:12]
        path = folder / f"{digest}-{attachment.filename}"
        path.write_bytes(attachment.data)
        path.chmod(0o600)
        saved.append({"name": attachment.filename, "content_type": attachment.content_type,
                      "size": len(attachment.data), "path": f"{reference}/{path.name}"})
    return saved


def download_attachment(ticket: Ticket, message_id: int, index: int):
    """The response for file ``index`` of message ``message_id`` of ``ticket`` (404 for any
    other): always a download (never shown inline), with the type it was accepted as,
    ``nosniff`` and a sandbox policy."""
    message = db.session.get(TicketMessage, message_id)
    files = (message.data or {}).get("attachments", []) if message else []
    if message is None or message.ticket_id != ticket.id or not 0 <= index < len(files):
        abort(404)
    file = files[index]
    response = send_from_directory(current_app.config["MAIL_ATTACHMENTS_DIR"], file["path"],
                                   mimetype=file["content_type"], as_attachment=True,
                                   download_name=file["name"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def erase_attachments(reference: str | None) -> None:
    """Delete the files a ticket's user sent (with the ticket's other personal data)."""
    if reference:
        shutil.rmtree(Path(current_app.config["MAIL_ATTACHMENTS_DIR"]) / reference, ignore_errors=True)


def _user_message(ticket: Ticket, reply: UserMessage) -> None:
    data = {"via": reply.via, "message_id": reply.message_id,
            "attachments": _save_attachments(ticket.reference, reply),
            "refused": [{"name": name, "reason": reason} for name, reason in reply.refused]}
    db.session.add(TicketMessage(ticket_id=ticket.id, kind="user", author=reply.sender,
                                 body=reply.text, data=data, created_at=utcnow()))


TOO_MANY_NEW_REQUESTS = "too many new requests from this sender"


def _recent_requests_by(sender: str) -> int:
    """New tickets ``sender`` opened by e-mail in the last hour."""
    since = utcnow() - dt.timedelta(hours=1)
    return db.session.scalar(select(func.count(Ticket.id)).where(
        func.lower(Ticket.email) == sender.lower(), Ticket.session_id.like("mail:%"),
        Ticket.created_at >= since))


def open_ticket(request: NewRequest) -> Ticket | Ignored:
    """A contact ticket for a new request by e-mail; its "session" is the message (the same
    Message-ID again, an SMTP retry, opens nothing). A sender past ``MAIL_NEW_TICKETS_PER_HOUR``
    is ``TOO_MANY_NEW_REQUESTS`` (the SMTP server answers 451: their server retries later)."""
    key = request.message_id or f"{request.sender}\n{request.subject}\n{request.text}"
    session = "mail:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:40]
    if db.session.scalar(select(Ticket.id).filter_by(session_id=session)) is not None:
        return Ignored("already received")
    if _recent_requests_by(request.sender) >= current_app.config["MAIL_NEW_TICKETS_PER_HOUR"]:
        return Ignored(TOO_MANY_NEW_REQUESTS)
    fields = {"kind": "contact", "session_id": session, "query": request.subject[:500],
              "user_agent": "e-mail"}
    text = request.text or request.subject or "(attachments only)"
    ticket = service.create_contact_ticket(fields, text, request.sender, request.name,
                                           subject=request.subject)
    _user_message(ticket, request)
    db.session.commit()
    log.info("mail: new request from %s opened %s", request.sender, ticket.reference)
    return ticket


def deliver(reply: InboundReply) -> Ticket | Ignored:
    """Keep a user's reply in its ticket and reopen the ticket if it was waiting or resolved."""
    ticket = db.session.scalar(select(Ticket).filter_by(reference=reply.reference))
    if ticket is None or not ticket.email:
        return Ignored("no such ticket (or its personal data was erased)")
    if reply.message_id and reply.message_id in thread_ids(ticket):
        return Ignored("already received")
    _user_message(ticket, reply)
    if ticket.status in REOPENED_BY_USER:
        before = audit.snapshot(ticket, REOPEN_FIELDS)
        ticket.status, ticket.pending_reason, ticket.resolved_at = "open", "", None
        audit.record("user", "ticket", ticket.reference, "user_reply", before,
                     audit.snapshot(ticket, REOPEN_FIELDS))
    ticket.updated_at = utcnow()
    sla_watch.store_state(ticket)
    db.session.commit()
    log.info("mail: reply from %s via %s added to %s", reply.sender, reply.via, ticket.reference)
    return ticket


# --- staff replies -------------------------------------------------------------------------------
def reply_to_user(ticket: Ticket, body: str, *, staff: User | None = None, rating: bool = False,
                  **data) -> TicketMessage:
    """Keep ``body`` in the conversation and queue its e-mail to the ticket's user (``rating``:
    with the satisfaction links, e.g. with the resolution): ``delivery`` is ``queued`` until
    the job has sent it (``tickets.delivery``); the first reply is the ticket's first response
    whatever its delivery. The caller commits, which queues the job."""
    thread = thread_ids(ticket)
    message = TicketMessage(ticket_id=ticket.id, kind="reply", author_id=staff.id if staff else None,
                            author=staff.display_name if staff else "", body=body,
                            data={"via": "email", **data}, created_at=utcnow())
    db.session.add(message)
    db.session.flush()
    delivery.queue_reply(ticket, message, thread=thread, rating=rating)
    ticket.updated_at = utcnow()
    if ticket.first_response_at is None:     # answered now, whenever the e-mail goes out
        ticket.first_response_at = message.created_at
    return message
