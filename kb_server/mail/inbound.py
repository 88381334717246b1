"""Mail from users: ``ingest(raw) -> InboundReply | NewRequest | Ignored``.

Parsing only (no database): a reply names its ticket by reference (``conversation.deliver``
stores it); a person's message that threads to no ticket is a ``NewRequest``
(``conversation.open_ticket`` makes it a contact ticket) unless ``MAIL_NEW_TICKETS`` is off.

- **Threading**: the ticket comes from the reply address's token (``support+<token>@...``, in
  the envelope recipients or ``To``/``Cc``/``Delivered-To``), else from one of our Message-IDs
  in ``In-Reply-To`` / ``References``; both are signed (``tokens.py``), so a guessed reference
  threads nothing.
- **Never a loop**: auto-replies (``Auto-Submitted`` other than ``no``, ``X-Autoreply``,
  ``X-Autorespond``, ``Precedence: bulk/auto_reply/junk/list``, mailing-list headers),
  bounces (``multipart/report``, a null envelope sender, ``MAILER-DAEMON`` / ``postmaster``) and
  our own messages coming back are ``Ignored``: they never reach a ticket.
- **The reply only**: the text above our reply marker (``##- ... -##``), then without the
  quoted earlier messages and signature (mail-parser-reply, which knows the "On ... wrote:"
  lines of many mail clients), then without a trailing ``>`` quoted block and the line
  introducing it (the Russian and Ukrainian clients' headers the library does not know).
- **Attachments** within ``MAIL_MAX_ATTACHMENT_BYTES`` and of ``MAIL_ATTACHMENT_TYPES`` are kept;
  the others are listed as refused, with the reason.
"""
from __future__ import annotations

import email
import email.policy
import html as html_lib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

import nh3
from flask import current_app
from mailparser_reply import EmailReplyParser
from werkzeug.utils import secure_filename

from kb_server.jsonapi import UNSTORABLE
from kb_server.mail import tokens
from kb_server.mail.outbound import MARKER_TAG

MAX_ATTACHMENTS = 10
MAX_TEXT = 20000
MAX_SUBJECT = 200
MAX_ADDRESS = 254
AUTO_PRECEDENCE = {"bulk", "auto_reply", "junk", "list"}
BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "pl"]
NOT_A_REPLY = "not a reply to a ticket"
BLOCK_TAGS = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h\d)\b[^>]*>", re.I)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class UserMessage:
    """What a person sent: the text kept, the files accepted and refused."""

    sender: str
    text: str
    message_id: str = ""
    attachments: tuple[Attachment, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()      # (file name, reason)
    via: str = "email"


@dataclass(frozen=True, kw_only=True)
class InboundReply(UserMessage):
    """A user's reply to a ticket (``via`` ``email`` or ``link``)."""

    reference: str


@dataclass(frozen=True, kw_only=True)
class NewRequest(UserMessage):
    """A person's new message to the support address (no ticket token or thread)."""

    name: str
    subject: str


@dataclass(frozen=True)
class Ignored:
    reason: str


def ingest(raw: bytes, *, envelope_from: str | None = None,
           recipients: tuple[str, ...] = ()) -> InboundReply | NewRequest | Ignored:
    """Parse one inbound message; ``envelope_from`` / ``recipients`` are the SMTP envelope's
    when known (``""`` is the null sender of a bounce)."""
    config = current_app.config
    if len(raw) > config["MAIL_MAX_MESSAGE_BYTES"]:
        return Ignored("message too large")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    reason = _automatic(message, envelope_from)
    if reason:
        return Ignored(reason)
    reference = _thread(message, recipients)
    if reference is None and not config["MAIL_NEW_TICKETS"]:
        return Ignored(NOT_A_REPLY)
    attachments, refused = _attachments(message, config)
    text = strip_quoted(_body_text(message))
    if not text and not attachments:
        return Ignored("empty reply" if reference else "empty message")
    name, sender = parseaddr(str(message["From"] or ""))
    found = {"sender": sender, "text": text, "message_id": str(message["Message-ID"] or "").strip(),
             "attachments": tuple(attachments), "refused": tuple(refused)}
    if reference is not None:
        return InboundReply(reference=reference, **found)
    if "@" not in sender or len(sender) > MAX_ADDRESS:
        return Ignored("no sender address to answer")
    subject = " ".join(str(message["Subject"] or "").split())[:MAX_SUBJECT]
    return NewRequest(name=" ".join(name.split())[:MAX_SUBJECT], subject=subject, **found)


# --- auto-replies, bounces, loops ----------------------------------------------------------------
def _header(message: EmailMessage, name: str) -> str:
    return str(message.get(name, "") or "").strip().lower()


def _automatic(message: EmailMessage, envelope_from: str | None) -> str | None:
    """Why ``message`` is machine-sent (and must not reach a ticket), or None."""
    sender = parseaddr(str(message["From"] or ""))[1].lower()
    if message.get_content_type() == "multipart/report" or envelope_from == "" \
            or sender.partition("@")[0] in BOUNCE_SENDERS:
        return "bounce"
    if _header(message, "Auto-Submitted") not in ("", "no") or message["X-Autoreply"] \
            or message["X-Autorespond"] or _header(message, "Precedence") in AUTO_PRECEDENCE:
        return "auto-reply"
    if message["List-Id"] or message["List-Unsubscribe"]:
        return "mailing list"
    if tokens.reference_from_message_id(str(message["Message-ID"] or "")):
        return "our own message"
    return None


# --- threading -----------------------------------------------------------------------------------
def _thread(message: EmailMessage, recipients: tuple[str, ...]) -> str | None:
    addresses = list(recipients) + [address for _, address in getaddresses(
        [str(value) for name in ("To", "Cc", "Delivered-To") for value in message.get_all(name, [])])]
    for address in addresses:
        if reference := tokens.reference_from_address(address):
            return reference
    ids = f"{message['In-Reply-To'] or ''} {message['References'] or ''}"
    for message_id in reversed(re.findall(r"<[^<>\s]+>", ids)):
        if reference := tokens.reference_from_message_id(message_id):
            return reference
    return None


# --- text ----------------------------------------------------------------------------------------
def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if part.get_content_type() == "text/html":
        content = html_lib.unescape(nh3.clean(BLOCK_TAGS.sub("\n", content), tags=set()))
    return UNSTORABLE.sub("\ufffd", content.replace("\r\n", "\n")[:MAX_TEXT * 5])


def strip_quoted(text: str) -> str:
    """The new text of a reply: above our marker, without quoted messages and signature."""
    lines = text.split("\n")
    marker = next((i for i, line in enumerate(lines) if MARKER_TAG in line), None)
    if marker is not None:
        lines = lines[:marker]
    reply = EmailReplyParser(languages=REPLY_LANGUAGES).parse_reply("\n".join(lines)) or ""
    return _drop_trailing_quote(reply.split("\n")).strip()[:MAX_TEXT]


def _drop_trailing_quote(lines: list[str]) -> str:
    """Without a final block of ``>`` lines and the attribution line just above it."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and (lines[start - 1].lstrip().startswith(">") or not lines[start - 1].strip()):
        start -= 1
    if start == end:
        return "\n".join(lines[:end])
    if start and lines[start - 1].rstrip().endswith(":"):
        start -= 1
    return "\n".join(lines[:start])


# --- attachments ---------------------------------------------------------------------------------
def _attachments(message: EmailMessage, config) -> tuple[list[Attachment], list[tuple[str, str]]]:
    kept: list[Attachment] = []
    refused: list[tuple[str, str]] = []
    for part in message.iter_attachments():
        name = secure_filename(part.get_filename() or "") or "attachment"
        content_type = part.get_content_type()
        data = part.get_payload(decode=True) or b""
        if content_type not in config["MAIL_ATTACHMENT_TYPES"]:
            refused.append((name, f"type {content_type} not accepted"))
        elif len(data) > config["MAIL_MAX_ATTACHMENT_BYTES"]:
            refused.append((name, f"larger than {config['MAIL_MAX_ATTACHMENT_BYTES']} bytes"))
        elif len(kept) >= MAX_ATTACHMENTS:
            refused.append((name, f"more than {MAX_ATTACHMENTS} attachments"))
        else:
            kept.append(Attachment(name, content_type, data))
    return kept, refused
