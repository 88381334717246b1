"""Outbound webhooks against a real HTTP receiver on a free loopback port: the signature
verifies (as the README tells receivers to check it), events from ticket creation and the
console's actions, retry after a 500 then success, no duplicates, failure after the last retry,
the delivery log, admin-only management (HTML and JSON) and bad input."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine

from kb_server import create_app, jobs, webhooks
from kb_server.cli import main
from kb_server.extensions import db
from kb_server.models import AuditEntry, Webhook, WebhookDelivery, utcnow
from tests.conftest import app_config
from tests.staff_helpers import STAFF_ADMIN, add_staff, bearer, login
from tests.test_jobs import wait_until
from tests.tickets_helpers import STAFF, post

SECRET = "a-shared-secret-of-some-length"
CONTACT = {"session_id": "w1", "email": "ola@example.com", "name": "Ola",
           "message": "The export button does nothing", "language": "en"}


class Receiver:
    """A help desk's webhook endpoint: keeps each request; answers with ``statuses`` in turn
    (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"busy" if status >= 500 else b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/linezero"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """The receiver's check, as in the README."""
    timestamp = headers["X-Linezero-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Linezero-Signature"])


def add_hook(client, url: str, events=None, **fields) -> dict:
    response = client.post("/api/v1/webhooks", headers=STAFF, json={
        "url": url, "events": events or ["ticket.created", "ticket.updated", "ticket.escalated",
                                         "ticket.resolved"], "secret": SECRET, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["webhook"]


def new_ticket(client) -> str:
    response = post(client, "contact", CONTACT)
    assert response.status_code == 201
    return response.get_json()["ticket"]["reference"]


def deliveries(app) -> list[dict]:
    with app.app_context():
        return [row.to_dict() for row in db.session.scalars(
            db.select(WebhookDelivery).order_by(WebhookDelivery.id))]


# --- delivery ------------------------------------------------------------------------------------
def test_a_new_ticket_is_posted_signed_and_the_signature_verifies(app, client, receiver):
    hook = add_hook(client, receiver.url)
    reference = new_ticket(client)
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert verify(SECRET, headers, body) and not verify("another secret entirely", headers, body)
    tampered = body.replace(b"Ola", b"Eve")
    assert not verify(SECRET, headers, tampered)
    event = json.loads(body)
    assert event["type"] == headers["X-Linezero-Event"] == "ticket.created"
    assert event["id"] == headers["X-Linezero-Event-Id"] and len(event["id"]) == 36
    assert event["ticket"]["reference"] == reference and event["ticket"]["email"] == "ola@example.com"
    assert headers["Content-Type"] == "application/json" and headers["X-Linezero-Timestamp"].isdigit()
    [row] = deliveries(app)
    assert (row["state"], row["attempts"], row["last_status"], row["webhook_id"]) == ("delivered", 1, 200, hook["id"])


def test_console_actions_emit_updated_escalated_and_resolved(app, client, receiver):
    add_hook(client, receiver.url)
    reference = new_ticket(client)
    act = lambda action, **body: client.post(f"/api/v1/tickets/{reference}/{action}",
                                             headers=STAFF, json=body)
    assert act("take").status_code == 200
    facts = {name: "known" for name in ("affected_service", "since_when", "error_text",
                                        "affected_users", "steps_to_reproduce", "product_version")}
    assert act("escalate", reason="needs line 2", facts=facts).status_code == 200
    assert act("status", status="resolved").status_code == 200
    assert act("status", status="resolved").status_code == 200            # no change: an update
    events = receiver.events()
    assert [e["type"] for e in events] == ["ticket.created", "ticket.updated", "ticket.escalated",
                                           "ticket.resolved", "ticket.updated"]
    escalated = events[2]
    assert escalated["changes"]["action"] == "escalate" and escalated["changes"]["after"]["line"] == 2
    assert escalated["changes"]["by"] == STAFF_ADMIN and escalated["ticket"]["line"] == 2
    assert len({e["id"] for e in events}) == 5


def test_an_endpoint_gets_only_the_events_it_wants(app, client, receiver):
    add_hook(client, receiver.url, events=["ticket.resolved"])
    reference = new_ticket(client)
    client.post(f"/api/v1/tickets/{reference}/status", headers=STAFF, json={"status": "resolved"})
    assert [e["type"] for e in receiver.events()] == ["ticket.resolved"]


def test_a_failed_action_emits_nothing(app, client, receiver):
    add_hook(client, receiver.url)
    reference = new_ticket(client)
    response = client.post(f"/api/v1/tickets/{reference}/escalate", headers=STAFF, json={})
    assert response.status_code == 400 and [e["type"] for e in receiver.events()] == ["ticket.created"]


def test_a_gap_ticket_is_announced_too(app, client, receiver):
    add_hook(client, receiver.url, events=["ticket.created"])
    from tests.tickets_helpers import search
    search(client, "g1", "quantum flux capacitor")          # zero results: a gap ticket at once
    [event] = receiver.events()
    assert event["ticket"]["kind"] == "gap" and "quantum flux capacitor" in event["ticket"]["subject"]


def test_a_merge_announces_the_ticket_that_takes_it(app, client, receiver):
    original, duplicate = new_ticket(client), new_ticket(client)
    add_hook(client, receiver.url, events=["ticket.updated"])
    response = client.post(f"/api/v1/tickets/{duplicate}/merge", headers=STAFF, json={"into": original})
    assert response.status_code == 200
    events = {e["ticket"]["reference"]: e for e in receiver.events()}
    assert set(events) == {original, duplicate}
    assert events[original]["changes"] == {"action": "merge_in", "merged": duplicate, "by": STAFF_ADMIN}
    assert events[duplicate]["ticket"]["status"] == "closed"


def test_the_sla_checks_own_escalation_is_announced(app, client, receiver):
    app.config.update(SLA={"P3": {"first_response": "1h", "resolution": "8h"}},
                      SLA_ACTIONS={"due_soon": [], "breached": ["escalate"]})
    add_hook(client, receiver.url, events=["ticket.escalated"])
    created = dt.datetime.now(dt.timezone.utc)
    with time_machine.travel(created, tick=False):
        reference = new_ticket(client)
    with time_machine.travel(created + dt.timedelta(hours=2), tick=False):
        result = app.test_cli_runner().invoke(main, ["tickets", "sla-check"])
    assert "action escalate: 1" in result.output, result.output
    [event] = receiver.events()
    assert event["type"] == "ticket.escalated" and event["ticket"]["reference"] == reference
    assert event["ticket"]["line"] == 2
    assert event["changes"]["action"] == "sla.escalate" and event["changes"]["by"] == "sla"


def test_retry_after_a_500_then_success_with_a_real_consumer(tmp_path, app, receiver):
    queued = create_app(app_config(tmp_path, JOBS_IMMEDIATE=False, WEBHOOK_RETRY_SECONDS=0.01))
    client = queued.test_client()
    add_hook(client, receiver.url)
    receiver.statuses = [500]
    new_ticket(client)
    consumer = jobs.start_consumer(queued)
    try:
        row = wait_until(lambda: (rows := deliveries(queued)) and rows[0]["state"] == "delivered" and rows[0])
    finally:
        consumer.stop(graceful=True)
    assert row["attempts"] == 2 and [a["status"] for a in row["log"]] == [500, 200]
    assert "HTTP 500" in row["log"][0]["error"] and row["next_attempt_at"] is None
    first, second = receiver.requests
    assert first["body"] == second["body"]                                # the same event, resent
    assert first["headers"]["X-Linezero-Event-Id"] == second["headers"]["X-Linezero-Event-Id"]
    assert all(verify(SECRET, r["headers"], r["body"]) for r in receiver.requests)


def test_an_endpoint_that_keeps_failing_is_marked_failed(tmp_path, app, receiver):
    queued = create_app(app_config(tmp_path, JOBS_IMMEDIATE=False, WEBHOOK_RETRIES=2,
                                   WEBHOOK_RETRY_SECONDS=0.01))
    client = queued.test_client()
    add_hook(client, receiver.url, events=["ticket.created"])
    receiver.statuses = [503, 500, 502, 500]
    new_ticket(client)
    consumer = jobs.start_consumer(queued)
    try:
        row = wait_until(lambda: (rows := deliveries(queued)) and rows[0]["state"] == "failed" and rows[0])
    finally:
        consumer.stop(graceful=True)
    assert row["attempts"] == 3 and row["last_status"] == 502 and len(receiver.requests) == 3
    staff = queued.test_client()
    login(staff, STAFF_ADMIN)
    page = staff.get("/console/webhooks").get_data(as_text=True)
    assert 'data-state="failed"' in page and "HTTP 502" in page


def test_the_retry_waits_are_logged_with_the_next_attempt(app, client, receiver):
    """Immediate mode makes the first attempt only; the log says when the next one is due."""
    app.config["WEBHOOK_RETRY_SECONDS"] = 30
    add_hook(client, receiver.url, events=["ticket.created"])
    receiver.statuses = [500]
    new_ticket(client)
    [row] = deliveries(app)
    assert (row["state"], row["attempts"], row["last_status"]) == ("pending", 1, 500)
    assert row["next_attempt_at"] is not None
    login(client, STAFF_ADMIN)
    page = client.get("/console/webhooks").get_data(as_text=True)
    assert 'data-state="pending"' in page and row["next_attempt_at"][:16].replace("T", " ") in page


def test_no_duplicate_event_when_a_delivery_job_runs_again(app, client, receiver):
    add_hook(client, receiver.url, events=["ticket.created"])
    new_ticket(client)
    [row] = deliveries(app)
    with app.app_context():
        task = jobs.jobs().tasks["webhooks.deliver"]
        assert task.call_local(row["id"]) == "delivered"             # a retried job: nothing sent
        jobs.jobs().enqueue("webhooks.deliver", row["id"])
    assert len(receiver.requests) == 1 and deliveries(app)[0]["attempts"] == 1


def test_a_disabled_endpoint_is_not_called(app, client, receiver):
    hook = add_hook(client, receiver.url)
    assert client.patch(f"/api/v1/webhooks/{hook['id']}", headers=STAFF,
                        json={"active": False}).get_json()["webhook"]["active"] is False
    new_ticket(client)
    assert receiver.requests == [] and deliveries(app) == []


# --- management ----------------------------------------------------------------------------------
def test_admins_manage_endpoints_in_the_api_with_an_audit_trail(app, client, receiver):
    response = client.post("/api/v1/webhooks", headers=STAFF,
                           json={"url": receiver.url, "events": ["ticket.resolved"]})
    assert response.status_code == 201
    created = response.get_json()
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["webhook"]["secret_hint"] == secret[:4] + "…"
    hook_id = created["webhook"]["id"]
    listed = client.get("/api/v1/webhooks", headers=STAFF).get_json()["webhooks"]
    assert [h["id"] for h in listed] == [hook_id] and secret not in json.dumps(listed)
    changed = client.patch(f"/api/v1/webhooks/{hook_id}", headers=STAFF,
                           json={"events": ["ticket.created", "ticket.resolved"],
                                 "description": "Zendesk"}).get_json()["webhook"]
    assert changed["events"] == ["ticket.created", "ticket.resolved"] and changed["description"] == "Zendesk"
    new_ticket(client)
    log = client.get(f"/api/v1/webhooks/deliveries?webhook={hook_id}", headers=STAFF).get_json()
    assert [d["event"] for d in log["deliveries"]] == ["ticket.created"]
    assert verify(secret, receiver.requests[0]["headers"], receiver.requests[0]["body"])
    assert client.delete(f"/api/v1/webhooks/{hook_id}", headers=STAFF).get_json() == {"deleted": hook_id}
    assert client.get("/api/v1/webhooks", headers=STAFF).get_json()["webhooks"] == []
    with app.app_context():
        trail = db.session.scalars(db.select(AuditEntry).filter_by(entity="webhook")
                                   .order_by(AuditEntry.id)).all()
        assert [e.action for e in trail] == ["create", "update", "delete"]
        assert trail[0].actor == STAFF_ADMIN and trail[0].after["secret"] == "(new)"
        assert secret not in json.dumps([e.to_dict() for e in trail])
        assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))) == 0


def test_admins_manage_endpoints_in_the_console(app, client, receiver):
    login(client, STAFF_ADMIN)
    page = client.post("/console/webhooks", data={"url": receiver.url, "description": "Desk",
                                                  "events": ["ticket.created", "ticket.updated"]})
    html = page.get_data(as_text=True)
    secret = re.search(r'id="new-secret">[^<]*<code>([^<]+)</code>', html).group(1)
    assert secret.startswith("whsec_") and "Desk" in html
    assert secret not in client.get("/console/webhooks").get_data(as_text=True)   # shown once
    with app.app_context():
        hook = db.session.scalar(db.select(Webhook))
        assert hook.events == ["ticket.created", "ticket.updated"] and hook.secret == secret
        hook_id = hook.id
    client.post(f"/console/webhooks/{hook_id}", data={"url": receiver.url, "events": ["ticket.resolved"],
                                                     "description": "Desk", "secret": SECRET})
    with app.app_context():
        hook = db.session.get(Webhook, hook_id)
        assert (hook.events, hook.active, hook.secret) == (["ticket.resolved"], False, SECRET)
    bad = client.post("/console/webhooks", data={"url": "javascript:alert(1)", "events": ["ticket.created"]},
                      follow_redirects=True)
    assert "must be an http(s) URL" in bad.get_data(as_text=True)
    assert client.post(f"/console/webhooks/{hook_id}/delete").status_code == 302
    page = client.get("/console/webhooks").get_data(as_text=True)
    assert "No endpoints yet." in page and "delete" in page         # the history keeps it


def test_the_webhook_forms_need_the_csrf_token(app, tmp_path):
    protected = create_app(app_config(tmp_path, WTF_CSRF_ENABLED=True))
    client = protected.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/console/login").get_data(as_text=True)).group(1)
    client.post("/console/login", data={"email": STAFF_ADMIN, "password": "correct horse battery",
                                        "csrf_token": token})
    data = {"url": "https://desk.example/hook", "events": ["ticket.created"]}
    assert client.post("/console/webhooks", data=data).status_code == 400
    page = client.get("/console/webhooks").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/console/webhooks", data={**data, "csrf_token": token}).status_code == 200


@pytest.mark.parametrize("role, line", [("agent", 4), ("editor", None), ("analyst", None)])
def test_only_admins_may_manage_webhooks(app, client, role, line):
    with app.app_context():
        token = add_staff(f"{role}@example.com", role, line=line)
        db.session.add(Webhook(url="https://desk.example/hook", secret=SECRET, events=["ticket.created"]))
        db.session.commit()
    api = [("get", "/api/v1/webhooks", None), ("post", "/api/v1/webhooks", {"url": "https://x.example"}),
           ("patch", "/api/v1/webhooks/1", {"active": False}), ("delete", "/api/v1/webhooks/1", None),
           ("get", "/api/v1/webhooks/deliveries", None)]
    for method, path, body in api:
        response = getattr(client, method)(path, headers=bearer(token), json=body)
        assert response.status_code == 403 and response.get_json()["status"] == 403, (method, path)
        assert getattr(client, method)(path, json=body).status_code == 401
    staff = app.test_client()
    login(staff, f"{role}@example.com")
    for method, path in [("get", "/console/webhooks"), ("post", "/console/webhooks"),
                         ("post", "/console/webhooks/1"), ("post", "/console/webhooks/1/delete")]:
        response = getattr(staff, method)(path, data={"url": "https://x.example", "events": ["ticket.created"]})
        assert response.status_code == 403 and "You do not have access" in response.get_data(as_text=True)
    assert "/console/webhooks" not in staff.get("/console/").get_data(as_text=True)
    anonymous = app.test_client().get("/console/webhooks")
    assert anonymous.status_code == 302 and "/console/login" in anonymous.headers["Location"]
    with app.app_context():
        assert db.session.get(Webhook, 1).active is True


@pytest.mark.parametrize("body, message", [
    ({"url": "ftp://desk.example/x", "events": ["ticket.created"]}, "http(s) URL"),
    ({"url": "https://", "events": ["ticket.created"]}, "http(s) URL"),
    ({"url": "https://desk.example/" + "x" * 2000, "events": ["ticket.created"]}, "http(s) URL"),
    ({"events": ["ticket.created"]}, "'url' is required"),
    ({"url": "https://desk.example/x", "events": []}, "'events' must list"),
    ({"url": "https://desk.example/x", "events": ["ticket.deleted"]}, "unknown events"),
    ({"url": "https://desk.example/x", "events": "ticket.created", "secret": "short"}, "'secret' must have"),
    ({"url": "https://desk.example/x", "events": [1, 2]}, "unknown events"),
    ({"url": ["https://desk.example/x"], "events": ["ticket.created"]}, "'url' is required"),
    ({"url": "https://desk.example/x", "events": ["ticket.created"], "description": 5}, "'description' must be text"),
    ({"url": "https://desk.example/x", "events": ["ticket.created"], "active": "yes"}, "'active' must be"),
])
def test_bad_webhook_input_is_a_400_with_the_reason(client, body, message):
    response = client.post("/api/v1/webhooks", headers=STAFF, json=body)
    assert response.status_code == 400 and message in response.get_json()["error"]
    assert client.get("/api/v1/webhooks", headers=STAFF).get_json()["webhooks"] == []


def test_malformed_requests_are_4xx_json(client):
    for response in (client.post("/api/v1/webhooks", headers=STAFF, data="not json",
                                 content_type="application/json"),
                     client.post("/api/v1/webhooks", headers=STAFF, json=[1, 2]),
                     client.get("/api/v1/webhooks/deliveries?limit=100000", headers=STAFF),
                     client.get("/api/v1/webhooks/deliveries?webhook=x", headers=STAFF)):
        assert response.status_code == 400 and response.get_json()["status"] == 400
    missing = client.patch("/api/v1/webhooks/999", headers=STAFF, json={"active": False})
    assert missing.status_code == 404 and missing.get_json()["error"] == "no webhook 999"
    assert client.delete("/api/v1/webhooks/999", headers=STAFF).status_code == 404


def test_erasing_a_person_or_retention_removes_the_deliveries_about_them(app, client, runner, receiver):
    import datetime as dt
    from kb_server.cli import main
    add_hook(client, receiver.url, events=["ticket.created"])
    new_ticket(client)
    other = post(client, "contact", {**CONTACT, "email": "kim@example.com", "session_id": "w2"})
    assert other.status_code == 201 and len(deliveries(app)) == 2
    assert runner.invoke(main, ["privacy", "erase", "--email", "ola@example.com"]).exit_code == 0
    [left] = deliveries(app)
    assert "ola@example.com" not in json.dumps(left) and left["ticket"] == other.get_json()["ticket"]["reference"]
    with app.app_context():
        db.session.execute(db.update(WebhookDelivery).values(
            created_at=WebhookDelivery.created_at - dt.timedelta(days=181)))
        db.session.commit()
    result = runner.invoke(main, ["privacy", "retention"])
    assert "webhook deliveries deleted: 1" in result.output and deliveries(app) == []


def test_a_delivery_whose_job_was_lost_is_queued_again_once_overdue(app, client, receiver):
    hook = add_hook(client, receiver.url, events=["ticket.created"])
    new_ticket(client)
    [sent] = deliveries(app)
    with app.app_context():
        body = db.session.get(WebhookDelivery, sent["id"]).body
        for event_id, age in (("lost", 30), ("recent", 1)):
            db.session.add(WebhookDelivery(webhook_id=hook["id"], event_id=event_id, event="ticket.created",
                                           body=body, log=[], created_at=utcnow() - dt.timedelta(minutes=age)))
        db.session.commit()
        assert webhooks.requeue_overdue() == 1            # immediate mode: delivered at once
    states = {row["event_id"]: row["state"] for row in deliveries(app)}
    assert states == {sent["event_id"]: "delivered", "lost": "delivered", "recent": "pending"}
    assert len(receiver.requests) == 2
