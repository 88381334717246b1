"""A ticket's conversation with its user, and the two ways into it.

- ``deliver(reply)``: a user's reply (by e-mail or on the ticket page) lands in its ticket: kept
  in the conversation with its attachments, and a ticket waiting on the user (or resolved) is
  open again. A closed ticket keeps its status (the reply is still kept for staff to see).
- ``reply_to_user(ticket, body)``: staff answer: the message is composed, sent (or written to
  the outbox), kept in the conversation, and the first one is the ticket's first response.

Where the conversation is kept is a seam: a ``ConversationStore`` registered as
``app.extensions["linezero.conversation"]``. The default keeps entries in the ticket's
``context["conversation"]`` (personal data: erased with the ticket's other personal fields);
the staff console registers its own table-backed store.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
from pathlib import Path
from typing import Protocol

from flask import current_app
from sqlalchemy import select

from kb_server.extensions import db
from kb_server.mail import outbound
from kb_server.mail.inbound import Ignored, InboundReply
from kb_server.models.base import utcnow
from kb_server.models.tickets import Ticket, iso

log = logging.getLogger(__name__)

STORE = "linezero.conversation"
REOPENED_BY_USER = ("pending", "pending_user", "pending_third_party", "resolved")


class ConversationStore(Protocol):
    """Where a ticket's conversation lives. An entry is a dict: ``at`` (ISO UTC), ``author``
    (``user`` | ``agent``), ``via`` (``email`` | ``link`` | ``console``), ``text``,
    ``message_id``, ``attachments`` (``[{name, content_type, size, path}]``), ``refused``
    (``[{name, reason}]``), and for staff entries ``staff`` (who)."""

    def add(self, ticket: Ticket, entry: dict) -> None: ...

    def entries(self, ticket: Ticket) -> list[dict]: ...


class ContextStore:
    """The default store: a list in the ticket's ``context`` JSON."""

    def add(self, ticket: Ticket, entry: dict) -> None:
        context = dict(ticket.context or {})
        context["conversation"] = [*context.get("conversation", []), entry]
        ticket.context = context

    def entries(self, ticket: Ticket) -> list[dict]:
        return list((ticket.context or {}).get("conversation", []))


def store() -> ConversationStore:
    return current_app.extensions.setdefault(STORE, ContextStore())


def thread_ids(ticket: Ticket) -> list[str]:
    """The conversation's Message-IDs, oldest first (``References`` of the next message)."""
    return [entry["message_id"] for entry in store().entries(ticket) if entry.get("message_id")]


def agent_reply_times(ticket: Ticket) -> list[dt.datetime]:
    """When staff replied to the user (the SLA's first response and updates)."""
    return [dt.datetime.fromisoformat(entry["at"].rstrip("Z")) for entry in store().entries(ticket)
            if entry.get("author") == "agent"]


# --- the user's replies --------------------------------------------------------------------------
def _save_attachments(reference: str, reply: InboundReply) -> list[dict]:
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


def erase_attachments(reference: str | None) -> None:
    """Delete the files a ticket's user sent (with the ticket's other personal data)."""
    if reference:
        shutil.rmtree(Path(current_app.config["MAIL_ATTACHMENTS_DIR"]) / reference, ignore_errors=True)


def deliver(reply: InboundReply) -> Ticket | Ignored:
    """Keep a user's reply in its ticket and reopen the ticket if it was waiting or resolved."""
    ticket = db.session.scalar(select(Ticket).filter_by(reference=reply.reference))
    if ticket is None or not ticket.email:
        return Ignored("no such ticket (or its personal data was erased)")
    if reply.message_id and reply.message_id in thread_ids(ticket):
        return Ignored("already received")
    entry = {"at": iso(utcnow()), "author": "user", "via": reply.via, "text": reply.text,
             "sender": reply.sender, "message_id": reply.message_id,
             "attachments": _save_attachments(ticket.reference, reply),
             "refused": [{"name": name, "reason": reason} for name, reason in reply.refused]}
    store().add(ticket, entry)
    if ticket.status in REOPENED_BY_USER:
        ticket.status = "open"
    ticket.updated_at = utcnow()
    db.session.commit()
    log.info("mail: reply from %s via %s added to %s", reply.sender, reply.via, ticket.reference)
    return ticket


# --- staff replies -------------------------------------------------------------------------------
def reply_to_user(ticket: Ticket, body: str, *, staff: str = "", rating: bool = False) -> dict:
    """Send ``body`` to the ticket's user and keep it in the conversation (``rating``: add the
    satisfaction links, e.g. with the resolution). Raises ``outbound.MailError`` if it cannot
    be delivered; nothing is recorded then. Returns the conversation entry."""
    message = outbound.compose(ticket, body, thread=thread_ids(ticket), rating=rating)
    delivered = outbound.send(message)
    now = utcnow()
    entry = {"at": iso(now), "author": "agent", "via": "email", "text": body, "staff": staff,
             "message_id": str(message["Message-ID"]), "attachments": [], "refused": [],
             "delivery": "smtp" if delivered == "smtp" else "outbox"}
    store().add(ticket, entry)
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    ticket.updated_at = now
    db.session.commit()
    return entry
