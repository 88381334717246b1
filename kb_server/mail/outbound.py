"""Mail to users: ``compose`` a message about a ticket, ``send`` it.

``send`` speaks SMTP (``smtplib``; STARTTLS, implicit TLS or plain, optional login), once: a
failure raises ``MailError``, marked ``transient`` for a 4xx answer or a refused or lost
connection (the delivery job retries those with backoff, ``tickets.delivery``). With no ``MAIL_SMTP_HOST`` (the embedded default) a message is written to the outbox folder as
an ``.eml`` file instead, and the log says so.
"""
from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Sequence

import markdown
from flask import current_app

from indexer.languages import LANGUAGES
from indexer.render import sanitize_html
from kb_server.mail import tokens
from kb_server.models.base import utcnow

log = logging.getLogger(__name__)

# The line above which a reply is read (the same tag in every language, see inbound.py).
MARKER_TAG = "##-"
TEXTS = {
    "marker": {"en": "##- Please type your reply above this line -##",
               "ru": "##- Пишите ответ над этой строкой -##",
               "uk": "##- Пишіть відповідь над цим рядком -##"},
    "view": {"en": "See the conversation and reply on the web:",
             "ru": "Переписка и ответ на сайте:", "uk": "Листування і відповідь на сайті:"},
    "rate": {"en": "Was your question solved? Rate our answer:",
             "ru": "Вопрос решён? Оцените ответ:", "uk": "Питання вирішено? Оцініть відповідь:"},
    "good": {"en": "Good", "ru": "Хорошо", "uk": "Добре"},
    "bad": {"en": "Bad", "ru": "Плохо", "uk": "Погано"},
}


class MailError(Exception):
    """A message could not be delivered; ``transient`` (a 4xx answer, a refused or lost
    connection) when trying again later may work."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


def text(key: str, language: str) -> str:
    return TEXTS[key][language if language in LANGUAGES else "en"]


def delivery_mode() -> str:
    """``smtp`` or ``outbox`` (no SMTP host set: messages are only written to a folder)."""
    return "smtp" if current_app.config["MAIL_SMTP_HOST"] else "outbox"


# --- composing ---------------------------------------------------------------------------------
def requester_url(reference: str, email: str, suffix: str = "") -> str:
    """The signed link to the ticket's page for its user (``/t/<token>``)."""
    base = current_app.config["PUBLIC_URL"] or "http://127.0.0.1:5000"
    return f"{base.rstrip('/')}/t/{tokens.link_token(reference, email)}{suffix}"


def body_html(body: str) -> str:
    """Staff text (Markdown allowed) as sanitized HTML: the mail's HTML part, the ticket page."""
    return sanitize_html(markdown.markdown(body, extensions=["nl2br", "sane_lists"]))


def _footer(ticket, language: str, rating: bool) -> tuple[list[str], str]:
    url = requester_url(ticket.reference, ticket.email)
    lines, html = [f"{text('view', language)} {url}"], f'<p>{text("view", language)} <a href="{url}">{url}</a></p>'
    if rating:
        good, bad = f"{url}/rate/good", f"{url}/rate/bad"
        lines += [text("rate", language), f"  {text('good', language)}: {good}",
                  f"  {text('bad', language)}: {bad}"]
        html += (f'<p>{text("rate", language)} <a href="{good}">{text("good", language)}</a> · '
                 f'<a href="{bad}">{text("bad", language)}</a></p>')
    return lines, html


def _one_line(text: str) -> str:
    """User text fit for a header (line breaks would be refused, or worse, obeyed)."""
    return " ".join(text.split())


def compose(ticket, body: str, *, thread: Sequence[str] = (), rating: bool = False,
            subject: str | None = None, message_id: str | None = None) -> EmailMessage:
    """A message to the ticket's user: ``body`` (plain text, Markdown allowed) with a sanitized
    HTML alternative, the reply marker, the signed page link (and rating links when
    ``rating``), a reply address with the ticket's token, and ``In-Reply-To`` / ``References``
    from ``thread`` (the conversation's Message-IDs, oldest first)."""
    config = current_app.config
    language = ticket.language if ticket.language in LANGUAGES else "en"
    marker = text("marker", language)
    footer_lines, footer_html = _footer(ticket, language, rating)
    message = EmailMessage()
    message["Subject"] = _one_line(subject or f"[{ticket.reference}] {ticket.subject or ticket.reference}")
    message["From"] = config["MAIL_FROM"]
    name = _one_line(ticket.name)
    message["To"] = formataddr((name, ticket.email)) if name else ticket.email
    message["Reply-To"] = tokens.reply_address(ticket.reference)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or tokens.new_message_id(ticket.reference)
    if thread:
        message["In-Reply-To"] = thread[-1]
        message["References"] = " ".join(thread[-20:])
    message.set_content("\n".join([marker, "", body.strip(), "", "-- ", *footer_lines, ""]))
    message.add_alternative(f'<div style="color:#888">{marker}</div>{body_html(body)}<hr>{footer_html}',
                            subtype="html")
    return message


# --- sending -----------------------------------------------------------------------------------
def _transient(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, (smtplib.SMTPServerDisconnected, OSError))


def _smtp_send(message: EmailMessage, config) -> None:
    host, port, timeout = config["MAIL_SMTP_HOST"], config["MAIL_SMTP_PORT"], config["MAIL_SMTP_TIMEOUT"]
    security = config["MAIL_SMTP_SECURITY"]
    if security == "tls":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if config["MAIL_SMTP_USERNAME"]:
            client.login(config["MAIL_SMTP_USERNAME"], config["MAIL_SMTP_PASSWORD"])
        client.send_message(message)


def _to_outbox(message: EmailMessage) -> str:
    folder = Path(current_app.config["MAIL_OUTBOX_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9.-]", "", str(message["Message-ID"] or "message"))[:80]
    path = folder / f"{utcnow():%Y%m%dT%H%M%S}-{name}.eml"
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)   # personal data
    with os.fdopen(fd, "wb") as file:
        file.write(bytes(message))
    log.warning("mail: no SMTP host set (KB_MAIL_SMTP_HOST), so the message to %s was written "
                "to the outbox %s and NOT sent", message["To"], path)
    return str(path)


def send(message: EmailMessage) -> str:
    """Deliver ``message`` in one attempt: ``"smtp"``, or the outbox file's path on the
    embedded default. A failure raises ``MailError`` (``transient`` when a retry may work: the
    jobs that send mail retry it, see ``tickets.delivery``)."""
    config = current_app.config
    if not config["MAIL_SMTP_HOST"]:
        return _to_outbox(message)
    try:
        _smtp_send(message, config)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"could not send to {message['To']}: {exc}", transient=_transient(exc)) from exc
    log.info("mail: sent %s to %s", message["Message-ID"], message["To"])
    return "smtp"
