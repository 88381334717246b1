"""Signed tokens that tie mail and links to a ticket, with nothing stored: each is an HMAC of
the ticket's reference under the instance's ``SECRET_KEY``, so a forged or altered one is
refused.

- reply address: ``support+lz-000042-<signature>@example.com`` (``MAIL_REPLY_ADDRESS``);
- our ``Message-ID``: ``<lz-000042.<random>.<signature>@example.com>``, which a user's mail
  client puts in ``In-Reply-To`` / ``References``;
- page links: an itsdangerous timed token carrying the reference and a digest of the ticket's
  e-mail (erasing the ticket's personal data makes its links invalid).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from email.utils import parseaddr

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

REFERENCE_RE = r"lz-\d{6,}"
TOKEN_RE = re.compile(rf"^({REFERENCE_RE})-([0-9a-f]{{16}})$")
MESSAGE_ID_RE = re.compile(rf"^<?({REFERENCE_RE})\.([0-9a-f]{{16}})\.([0-9a-f]{{16}})@[^>]+>?$")
LINK_SALT = "linezero.requester-link"


class LinkInvalid(Exception):
    """A tampered, foreign or stale link (404)."""


class LinkExpired(LinkInvalid):
    """A genuine link past ``REQUESTER_LINK_DAYS`` (410)."""


def _signature(purpose: str, text: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{purpose}:{text}".encode(), hashlib.sha256).hexdigest()[:16]


def _valid(purpose: str, text: str, signature: str) -> bool:
    return hmac.compare_digest(_signature(purpose, text), signature)


def reply_base() -> tuple[str, str]:
    """(local part, domain) of the address users reply to."""
    config = current_app.config
    address = parseaddr(config["MAIL_REPLY_ADDRESS"] or config["MAIL_FROM"])[1]
    local, _, domain = address.rpartition("@")
    return local or address, domain or "localhost"


def reply_token(reference: str) -> str:
    ref = reference.lower()
    return f"{ref}-{_signature('reply', ref)}"


def reply_address(reference: str) -> str:
    local, domain = reply_base()
    return f"{local}+{reply_token(reference)}@{domain}"


def reference_from_address(address: str) -> str | None:
    """The ticket reference of a reply address (``support+<token>@...``), if genuine."""
    local = parseaddr(address)[1].rpartition("@")[0].lower()
    _, plus, token = local.partition("+")
    match = TOKEN_RE.match(token) if plus else None
    if match and _valid("reply", match.group(1), match.group(2)):
        return match.group(1).upper()
    return None


def new_message_id(reference: str) -> str:
    ref, nonce = reference.lower(), secrets.token_hex(8)
    return f"<{ref}.{nonce}.{_signature('message-id', f'{ref}.{nonce}')}@{reply_base()[1]}>"


def reference_from_message_id(message_id: str) -> str | None:
    """The ticket reference of one of our Message-IDs, if genuine."""
    match = MESSAGE_ID_RE.match(message_id.strip().lower())
    if match and _valid("message-id", f"{match.group(1)}.{match.group(2)}", match.group(3)):
        return match.group(1).upper()
    return None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:12]


def link_token(reference: str, email: str) -> str:
    """The token of a ticket's page link (``/t/<token>``)."""
    return _serializer().dumps({"r": reference, "e": email_digest(email)})


def read_link_token(token: str) -> tuple[str, str]:
    """(reference, e-mail digest) of a page-link token; ``LinkExpired`` / ``LinkInvalid``."""
    max_age = current_app.config["REQUESTER_LINK_DAYS"] * 24 * 3600
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkExpired() from None
    except BadSignature:
        raise LinkInvalid() from None
    if not isinstance(data, dict) or not isinstance(data.get("r"), str) or not isinstance(data.get("e"), str):
        raise LinkInvalid()
    return data["r"], data["e"]
