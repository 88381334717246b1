"""Outbound webhooks: ticket events POSTed as signed JSON to the endpoints admins configure.

- ``emit(event, ticket)``: called where tickets change (``console.actions.perform``, ticket
  creation in ``tickets.service``). One event id per event; for each active endpoint that wants
  the event a ``WebhookDelivery`` with the exact body is stored in the caller's transaction and
  the ``webhooks.deliver`` job queued after its commit.
- ``deliver`` (the job): one POST; 2xx is delivered, anything else (no answer, a redirect, 4xx,
  5xx) is retried ``WEBHOOK_RETRIES`` times, ``WEBHOOK_RETRY_SECONDS`` doubled each time, then
  the delivery is ``failed``. Every attempt is logged on the delivery. A delivery that is not
  ``pending`` any more is never sent again (idempotent per event id and endpoint).
- Each request carries ``X-Linezero-Event``, ``X-Linezero-Event-Id``, ``X-Linezero-Timestamp``
  (Unix seconds) and ``X-Linezero-Signature: sha256=HEX``, the HMAC-SHA256 with the endpoint's
  secret of ``timestamp + "." + body`` (``sign``; the README shows how to verify it).
- Endpoints are managed by admins (``save``, ``delete``), audited as entity ``webhook``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
import uuid
from typing import Mapping
from urllib.parse import urlsplit

from flask import current_app
from huey.exceptions import RetryTask
from sqlalchemy import or_, select

from kb_server import audit, jobs
from kb_server.console.strings import SaidError
from kb_server.extensions import db
from kb_server.models import Ticket, utcnow
from kb_server.models.integrations import WEBHOOK_EVENTS, Webhook, WebhookDelivery
from kb_server.models.tickets import iso

log = logging.getLogger(__name__)

SIGNATURE_HEADER, TIMESTAMP_HEADER = "X-Linezero-Signature", "X-Linezero-Timestamp"
EVENT_HEADER, EVENT_ID_HEADER = "X-Linezero-Event", "X-Linezero-Event-Id"
MAX_URL, MAX_SECRET, MAX_DESCRIPTION = 2000, 200, 200
MIN_SECRET = 16
ERROR_KEPT = 300            # characters of an error or answer kept in the log
LOG_KEPT = 20               # attempts kept per delivery
AUDITED = ("url", "events", "description", "active")


class WebhookError(SaidError, ValueError):
    """Bad endpoint settings (the ``Said`` message says which)."""


# --- signing -----------------------------------------------------------------------------------
def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + HMAC-SHA256 of ``timestamp + "." + body`` with ``secret``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


# --- events ------------------------------------------------------------------------------------
def _subscribers(event: str) -> list[Webhook]:
    return [hook for hook in db.session.scalars(select(Webhook).filter_by(active=True))
            if event in (hook.events or [])]


def emit(event: str, ticket: Ticket, changes: Mapping | None = None) -> str | None:
    """Record ``event`` about ``ticket`` for every endpoint that wants it (in the caller's
    transaction; delivered after its commit); the event id, or None when nobody listens."""
    hooks = _subscribers(event)
    if not hooks:
        return None
    event_id = str(uuid.uuid4())
    body = json.dumps({"id": event_id, "type": event, "created_at": iso(utcnow()),
                       "ticket": ticket.to_dict(), "changes": dict(changes or {})},
                      ensure_ascii=False, sort_keys=True, default=str)
    for hook in hooks:
        row = WebhookDelivery(webhook_id=hook.id, event_id=event_id, event=event,
                              ticket_reference=ticket.reference or "", body=body, log=[],
                              created_at=utcnow())
        db.session.add(row)
        db.session.flush()
        jobs.after_commit("webhooks.deliver", row.id)
    return event_id


# --- delivering --------------------------------------------------------------------------------
class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer that is not 2xx (the signed body is not sent elsewhere)."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(hook: Webhook, row: WebhookDelivery) -> tuple[int | None, str]:
    """POST the delivery once: (HTTP status or None, error text or "")."""
    body = row.body.encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(hook.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "Linezero-Webhooks/1",
        EVENT_HEADER: row.event, EVENT_ID_HEADER: row.event_id, TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(hook.secret, timestamp, body)})
    try:
        with _opener.open(request, timeout=current_app.config["WEBHOOK_TIMEOUT"]) as answer:
            return answer.status, ""
    except urllib.error.HTTPError as exc:
        text = exc.read(ERROR_KEPT).decode("utf-8", "replace")
        return exc.code, f"HTTP {exc.code}: {text}".strip()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, str(getattr(exc, "reason", exc))[:ERROR_KEPT]


@jobs.job("webhooks.deliver")
def deliver(delivery_id: int) -> str:
    """Send one pending delivery; retried with backoff until it is delivered or out of tries."""
    row = db.session.get(WebhookDelivery, delivery_id)
    if row is None or row.state != "pending":
        return row.state if row else "gone"           # delivered already: never twice
    hook = db.session.get(Webhook, row.webhook_id)
    if hook is None or not hook.active:
        return _finish(row, "failed", None, "the endpoint was disabled or removed")
    status, error = _post(hook, row)
    if status is not None and 200 <= status < 300:
        row.delivered_at = utcnow()
        return _finish(row, "delivered", status, "")
    error = error or f"HTTP {status}"
    if row.attempts < current_app.config["WEBHOOK_RETRIES"]:         # this try is not counted yet
        wait = current_app.config["WEBHOOK_RETRY_SECONDS"] * 2 ** row.attempts
        row.next_attempt_at = utcnow() + dt.timedelta(seconds=wait)
        _finish(row, "pending", status, error)
        log.warning("webhook %s %s to %s: %s, retry in %.0fs", row.event, row.event_id,
                    hook.url, error, wait)
        raise RetryTask(error, delay=wait)
    log.error("webhook %s %s to %s failed: %s", row.event, row.event_id, hook.url, error)
    return _finish(row, "failed", status, error)


@jobs.periodic("webhooks.requeue", "JOBS_REQUEUE_SECONDS")
def requeue_overdue() -> int:
    """Queue again the deliveries still pending ``JOBS_REQUEUE_SECONDS`` after they were due
    (created, or their next attempt): their job was lost. ``deliver`` never sends a delivered
    event twice. Returns how many were queued."""
    before = jobs.overdue_before()
    overdue = db.session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.state == "pending", WebhookDelivery.created_at < before,
        or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at < before))).all()
    for delivery_id in overdue:
        jobs.jobs().enqueue("webhooks.deliver", delivery_id)
    if overdue:
        log.warning("webhook deliveries queued again (their job was lost): %s", overdue)
    return len(overdue)


def _finish(row: WebhookDelivery, state: str, status: int | None, error: str) -> str:
    """Log the attempt on the delivery and commit its new state."""
    row.attempts += 1
    row.state, row.last_status, row.last_error = state, status, error[:ERROR_KEPT]
    if state != "pending":
        row.next_attempt_at = None
    row.log = [*(row.log or []), {"at": iso(utcnow()), "status": status,
                                  "error": error[:ERROR_KEPT]}][-LOG_KEPT:]
    db.session.commit()
    return state


# --- endpoints (admins) ------------------------------------------------------------------------
def _check_url(url: object) -> str:
    if not isinstance(url, str) or not url.strip():
        raise WebhookError("err_required", name="url")
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("err_webhook_url", limit=MAX_URL)
    return url


def _check_events(events: object) -> list[str]:
    if isinstance(events, str):
        events = [events]
    if not isinstance(events, (list, tuple)) or not events:
        raise WebhookError("err_webhook_events", events=", ".join(WEBHOOK_EVENTS))
    unknown = [e for e in events if e not in WEBHOOK_EVENTS]
    if unknown:
        raise WebhookError("err_webhook_unknown_events", unknown=unknown, events=", ".join(WEBHOOK_EVENTS))
    return [e for e in WEBHOOK_EVENTS if e in events]


def _check_secret(secret: object) -> str:
    if not isinstance(secret, str) or not MIN_SECRET <= len(secret.strip()) <= MAX_SECRET:
        raise WebhookError("err_webhook_secret", least=MIN_SECRET, most=MAX_SECRET)
    return secret.strip()


def _check_text(value: object, name: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise WebhookError("err_webhook_text", name=name, limit=limit)
    return value.strip()


def save(actor, fields: Mapping, hook: Webhook | None = None) -> tuple[Webhook, str | None]:
    """Add (``hook`` None) or change an endpoint from ``fields`` (``url``, ``events``,
    ``secret``, ``description``, ``active``), audited and committed. Returns the endpoint and
    the secret when one was generated (shown once)."""
    before = audit.snapshot(hook, AUDITED) if hook else {}
    new = hook is None
    hook = hook or Webhook(created_at=utcnow(), active=True, description="")
    if new or "url" in fields:
        hook.url = _check_url(fields.get("url"))
    if new or "events" in fields:
        hook.events = _check_events(fields.get("events"))
    if fields.get("description") is not None:
        hook.description = _check_text(fields["description"], "description", MAX_DESCRIPTION)
    if fields.get("active") is not None:
        if not isinstance(fields["active"], bool):
            raise WebhookError("err_webhook_active")
        hook.active = fields["active"]
    generated = None
    if fields.get("secret"):
        hook.secret = _check_secret(fields["secret"])
    elif new:
        hook.secret = generated = "whsec_" + secrets.token_urlsafe(24)
    db.session.add(hook)
    db.session.flush()
    after = audit.snapshot(hook, AUDITED)
    if fields.get("secret") or generated:
        after["secret"] = "(new)"
    audit.record(actor, "webhook", hook.id, "create" if new else "update", before, after)
    db.session.commit()
    return hook, generated


def delete(actor, hook: Webhook) -> None:
    """Remove an endpoint and its delivery log (audited)."""
    audit.record(actor, "webhook", hook.id, "delete", audit.snapshot(hook, AUDITED), {})
    db.session.execute(db.delete(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id))
    db.session.delete(hook)
    db.session.commit()


def endpoints() -> list[Webhook]:
    return list(db.session.scalars(select(Webhook).order_by(Webhook.id)))


def recent_deliveries(limit: int = 100, webhook_id: int | None = None) -> list[WebhookDelivery]:
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if webhook_id is not None:
        stmt = stmt.where(WebhookDelivery.webhook_id == webhook_id)
    return list(db.session.scalars(stmt))
