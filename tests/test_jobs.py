"""Background jobs (huey on SQLite in the instance folder): a queued job survives a restart,
the console's reply does not wait for SMTP, transient SMTP failures are retried with backoff
then marked failed, the periodic jobs, and `kb worker` as a real process."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from kb_server import create_app, jobs
from kb_server.extensions import db
from kb_server.mail import conversation
from kb_server.models import Ticket, TicketMessage, utcnow
from tests.conftest import app_config
from tests.staff_helpers import STAFF_ADMIN, login
from tests.mail_helpers import Relay, free_port
from tests.test_mail import CONTACT, load, new_ticket


def wait_until(check, timeout: float = 15.0):
    """Poll ``check()`` until it returns something true (or fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not done within {timeout}s")


def queued_app(tmp_path, **config):
    """An app on the test's instance whose jobs wait for a consumer (SQLite storage)."""
    return create_app(app_config(tmp_path, JOBS_IMMEDIATE=False, **config))


def reply_state(app, reference: str) -> dict:
    with app.app_context():
        [message] = conversation.messages(load(reference))
        return {"delivery": message.delivery, **(message.data or {})}


@pytest.fixture
def consumers():
    """Start consumers with ``start(app)``; all are stopped after the test."""
    started = []

    def start(app):
        consumer = jobs.start_consumer(app)
        started.append(consumer)
        return consumer
    yield start
    for consumer in started:
        consumer.stop(graceful=True)


STALL_SECONDS = 30


class GatedRelay(Relay):
    """An SMTP server that stalls in DATA until ``gate`` is set."""

    def __init__(self):
        super().__init__()
        self.gate = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, STALL_SECONDS)
        return await super().handle_DATA(server, session, envelope)


def smtp_server(app, handler):
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=controller.port,
                      MAIL_SMTP_SECURITY="none", PUBLIC_URL="https://help.example")
    return controller


# --- storage -------------------------------------------------------------------------------------
def test_a_reply_still_queued_is_the_first_response(app, tmp_path):
    """No consumer has sent it yet (jobs waiting; ``app`` made the database): the agent answered when the
    reply was made, whatever its delivery state."""
    queued = queued_app(tmp_path)
    reference = new_ticket(queued.test_client())
    staff = queued.test_client()
    assert login(staff, STAFF_ADMIN).status_code == 302
    staff.post(f"/console/t/{reference}/reply", data={"body": "Open Billing."})
    assert reply_state(queued, reference)["delivery"] == "queued"
    with queued.app_context():
        ticket = load(reference)
        [message] = conversation.messages(ticket)
        assert ticket.first_response_at == message.created_at
        assert ticket.sla_next_due != ticket.sla_first_response_due   # next update, not the reply


def test_a_queued_job_survives_a_restart(app, client, tmp_path):
    before = queued_app(tmp_path)
    reference = new_ticket(before.test_client())
    with before.app_context():
        conversation.reply_to_user(load(reference), "Hello after the restart")
        db.session.commit()
        assert jobs.jobs().pending() == 1
    assert reply_state(before, reference)["delivery"] == "queued"
    assert Path(before.config["JOBS_DB"]).is_file()
    before.extensions["jobs"].huey.storage.close()             # the process goes away

    after = queued_app(tmp_path)                                # a new process, the same file
    consumer = jobs.start_consumer(after)
    try:
        wait_until(lambda: reply_state(after, reference)["delivery"] == "outbox")
    finally:
        consumer.stop(graceful=True)
    assert len(list(Path(after.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))) == 1
    with after.app_context():
        assert jobs.jobs().pending() == 0 and load(reference).first_response_at is not None


def test_with_redis_the_jobs_are_kept_in_redis(tmp_path, app, client, redis_server):
    before = queued_app(tmp_path, REDIS_URL=redis_server)
    assert type(before.extensions["jobs"].huey).__name__ == "RedisHuey"
    assert jobs.storage_name(before.config) == "Redis " + redis_server.split("//")[1]
    assert not jobs.runs_in_serve(before.config)
    reference = new_ticket(client)
    with before.app_context():
        conversation.reply_to_user(load(reference), "kept in Redis")
        db.session.commit()
    assert not Path(before.config["JOBS_DB"]).exists()
    after = queued_app(tmp_path, REDIS_URL=redis_server)            # another process
    consumer = jobs.start_consumer(after)
    try:
        wait_until(lambda: reply_state(after, reference)["delivery"] == "outbox")
    finally:
        consumer.stop(graceful=True)
    assert jobs.runs_in_serve({**app.config, "REDIS_URL": ""})
    assert not jobs.runs_in_serve({**app.config, "REDIS_URL": "", "JOBS_IN_SERVE": False})


def test_a_redis_that_does_not_answer_cannot_hold_a_request(tmp_path):
    """The queue's connections give up (connect 1 s) so a contact's job runs in-process instead."""
    huey = jobs.make_huey({"REDIS_URL": "redis://127.0.0.1:1/0", "JOBS_IMMEDIATE": False})
    options = huey.storage.pool.connection_kwargs
    assert options["socket_connect_timeout"] == 1
    assert options["socket_timeout"] > huey.storage.read_timeout   # the consumer's blocking pop


def test_a_rolled_back_change_queues_nothing(tmp_path, app, client):
    queued = queued_app(tmp_path)
    reference = new_ticket(queued.test_client())
    with queued.app_context():
        conversation.reply_to_user(load(reference), "never sent")
        db.session.rollback()
        db.session.commit()
        assert jobs.jobs().pending() == 0
        assert db.session.scalar(db.select(db.func.count(TicketMessage.id))) == 0


# --- e-mail delivery as a job --------------------------------------------------------------------
def test_console_reply_returns_at_once_while_the_smtp_server_stalls(tmp_path, app, consumers):
    queued = queued_app(tmp_path, MAIL_RETRIES=0)
    relay = GatedRelay()
    controller = smtp_server(queued, relay)
    try:
        consumers(queued)
        reference = new_ticket(queued.test_client())
        staff = queued.test_client()
        login(staff, STAFF_ADMIN)
        started = time.monotonic()
        done = staff.post(f"/console/t/{reference}/reply", data={"body": "Open Billing."},
                          follow_redirects=True)
        took = time.monotonic() - started
        html = done.get_data(as_text=True)
        assert took < 10.0 and "reply queued for sending" in html      # it stalls STALL_SECONDS
        assert 'data-delivery="queued"' in html and relay.messages == []
        relay.gate.set()                                       # the server answers at last
        wait_until(lambda: reply_state(queued, reference)["delivery"] == "sent")
        assert len(relay.messages) == 1 and relay.messages[0]["Subject"].startswith(f"[{reference}]")
        assert 'data-delivery="sent"' in staff.get(f"/console/t/{reference}").get_data(as_text=True)
        with queued.app_context():
            assert load(reference).first_response_at is not None
    finally:
        relay.gate.set()
        controller.stop()


def test_transient_smtp_failures_are_retried_with_backoff_then_delivered(tmp_path, app, consumers):
    queued = queued_app(tmp_path, MAIL_RETRIES=3, MAIL_RETRY_SECONDS=0.01)
    relay = Relay(failures=2)
    controller = smtp_server(queued, relay)
    try:
        consumers(queued)
        reference = new_ticket(queued.test_client())
        with queued.app_context():
            conversation.reply_to_user(load(reference), "third time lucky")
            db.session.commit()
        state = wait_until(lambda: (s := reply_state(queued, reference))["delivery"] == "sent" and s)
    finally:
        controller.stop()
    assert state["attempts"] == 3 and "delivery_error" not in state and len(relay.messages) == 1


def test_a_server_that_keeps_failing_is_retried_then_marked_failed(tmp_path, app, consumers):
    queued = queued_app(tmp_path, MAIL_RETRIES=2, MAIL_RETRY_SECONDS=0.01)
    relay = Relay(failures=10)
    controller = smtp_server(queued, relay)
    try:
        reference = new_ticket(queued.test_client())
        with queued.app_context():
            conversation.reply_to_user(load(reference), "will not arrive")
            db.session.commit()
        consumers(queued)
        state = wait_until(lambda: (s := reply_state(queued, reference))["delivery"] == "failed" and s)
    finally:
        controller.stop()
    assert relay.failures == 7 and state["attempts"] == 3 and "451" in state["delivery_error"]
    assert "retry_at" not in state and relay.messages == []
    with queued.app_context():     # the agent answered, though the e-mail failed
        ticket = load(reference)
        assert ticket.first_response_at == conversation.messages(ticket)[0].created_at


def test_while_a_retry_waits_the_message_says_when(tmp_path, app):
    """Immediate mode runs the first attempt only: the state shows the error and the retry."""
    app.config["MAIL_RETRY_SECONDS"] = 60
    relay = Relay(failures=1)
    controller = smtp_server(app, relay)
    try:
        reference = new_ticket(app.test_client())
        with app.app_context():
            conversation.reply_to_user(load(reference), "soon")
            db.session.commit()
    finally:
        controller.stop()
    state = reply_state(app, reference)
    assert state["delivery"] == "queued" and "451" in state["delivery_error"]
    retry_at = dt.datetime.fromisoformat(state["retry_at"].rstrip("Z"))
    assert dt.timedelta(seconds=50) < retry_at - dt.datetime.utcnow() < dt.timedelta(seconds=70)
    staff = app.test_client()
    login(staff, STAFF_ADMIN)
    html = staff.get(f"/console/t/{reference}").get_data(as_text=True)
    assert 'data-delivery="queued"' in html and "next try" in html


def test_a_delivered_reply_is_not_sent_again(app, client, tmp_path):
    relay = Relay()
    controller = smtp_server(app, relay)
    try:
        reference = new_ticket(client)
        with app.app_context():
            message = conversation.reply_to_user(load(reference), "once")
            db.session.commit()
            assert jobs.jobs().tasks["mail.deliver"].call_local(message.id) == "sent"
    finally:
        controller.stop()
    assert len(relay.messages) == 1


# --- periodic jobs -------------------------------------------------------------------------------
def test_periodic_jobs_run_every_so_many_minutes(app):
    assert jobs.every_minutes(300) == 5 and jobs.every_minutes(61) == 2 and jobs.every_minutes(0) == 0
    due = jobs._due_every(5)
    assert due(dt.datetime(2026, 12, 2, 10, 15)) and not due(dt.datetime(2026, 12, 2, 10, 16))
    assert not jobs._due_every(0)(dt.datetime(2026, 12, 2, 10, 0))
    huey = app.extensions["jobs"].huey               # SLA every 5 minutes, searches every minute
    assert {t.name for t in huey.read_periodic(dt.datetime(2026, 12, 2, 10, 15))} == {
        "sla.check", "tickets.process"}
    assert {t.name for t in huey.read_periodic(dt.datetime(2026, 12, 2, 10, 16))} == {"tickets.process"}


def test_the_sla_check_job_stores_a_breach_without_cron(app, client):
    reference = new_ticket(client)
    with app.app_context():
        row = load(reference)
        row.created_at -= dt.timedelta(days=30)           # long past every target, not stored yet
        db.session.commit()
    counts = app.extensions["jobs"].tasks["sla.check"].call_local()
    assert counts["breached"] == 1
    with app.app_context():
        assert load(reference).sla_state == "breached"


def test_the_unresolved_search_job_judges_due_searches(app, client):
    from tests.tickets_helpers import add_event
    add_event(app, minutes_ago=90, session_id="s9", kind="search", query="warp drive manual",
              language="en", result_count=2, result_ids=["en/a", "en/b"])
    counts = app.extensions["jobs"].tasks["tickets.process"].call_local()
    assert counts == {"no_click": 1}
    with app.app_context():
        assert db.session.scalar(db.select(Ticket).filter_by(kind="gap")).gap_query == "warp drive manual"


# --- kb worker -----------------------------------------------------------------------------------
def test_kb_worker_processes_the_queue_as_its_own_process(tmp_path, app):
    queued = queued_app(tmp_path)
    reference = new_ticket(queued.test_client())
    with queued.app_context():
        conversation.reply_to_user(load(reference), "from the worker")
        db.session.commit()
    env = {**os.environ, "KB_INSTANCE_DIR": queued.config["INSTANCE_DIR"],
           "KB_DATABASE_URL": queued.config["SQLALCHEMY_DATABASE_URI"], "KB_EMBEDDER": "none",
           "KB_INDEX_DIR": queued.config["INDEX_DIR"], "KB_SECRET_KEY": "test",
           "KB_SLA_CHECK_SECONDS": "0", "KB_TICKETS_PROCESS_SECONDS": "0", "KB_LOG_FORMAT": "json"}
    worker = subprocess.Popen([str(Path(sys.executable).parent / "kb"), "worker", "--workers", "1"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: reply_state(queued, reference)["delivery"] == "outbox", timeout=60)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    assert "processing jobs from SQLite" in output and worker.returncode is not None
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert logged and all({"time", "level", "logger", "message"} <= set(entry) for entry in logged)


# --- lost jobs -----------------------------------------------------------------------------------
def test_a_reply_whose_job_was_lost_is_queued_again_once_overdue(tmp_path, app):
    from kb_server.tickets import delivery
    queued = queued_app(tmp_path, JOBS_REQUEUE_SECONDS=600)
    client = queued.test_client()
    lost, fresh, waiting = (new_ticket(client) for _ in range(3))
    with queued.app_context():
        for reference in (lost, fresh, waiting):
            conversation.reply_to_user(load(reference), "hello")
        db.session.commit()
        jobs.jobs().huey.flush()                          # the process died: the queue is empty
        long_ago = utcnow() - dt.timedelta(minutes=30)
        for reference in (lost, waiting):
            [message] = conversation.messages(load(reference))
            message.created_at = long_ago
        [message] = conversation.messages(load(waiting))  # a retry due later is not lost
        message.data = {**message.data, "retry_at": (utcnow() + dt.timedelta(minutes=5))
                        .isoformat(timespec="seconds") + "Z"}
        db.session.commit()
        [lost_message] = conversation.messages(load(lost))
        assert delivery.requeue_overdue() == 1
        [task] = jobs.jobs().huey.pending()
        assert (task.name, task.args) == ("mail.deliver", (lost_message.id,))
        assert jobs.jobs().tasks["mail.deliver"].call_local(lost_message.id) == "outbox"
        assert delivery.requeue_overdue() == 0            # delivered: never queued again


OUTAGE_CONTACTS = ("Orbita is down, nothing opens", "I get 502 bad gateway on every page",
                   "site is down for everyone")


def follow_ups(app) -> dict:
    """Contact tickets' follow-ups still due, and the incident reports they filed, by ticket."""
    from kb_server.models import IncidentReport
    with app.app_context():
        due = db.session.scalars(db.select(Ticket.reference).where(Ticket.follow_up_due.is_not(None))).all()
        reports = db.session.scalars(db.select(IncidentReport.ticket_id)).all()
        return {"due": sorted(due), "reports": sorted(reports)}


def test_a_contacts_follow_up_whose_job_was_lost_runs_once_after_the_sweep(tmp_path, app, consumers):
    """Embedded default (huey on SQLite): one contact's job is lost (the process died between
    the commit and the queueing), another's is only late; the sweep queues both again and the
    consumer runs each follow-up once (one incident report per contact, never two)."""
    from kb_server.tickets import service
    queued = queued_app(tmp_path, JOBS_REQUEUE_SECONDS=0, INCIDENT_REPORTS=3)
    client = queued.test_client()

    def post_contact(n: int) -> int:
        return client.post("/api/v1/contact", json={**CONTACT, "session_id": f"s{n}",
                                                    "message": OUTAGE_CONTACTS[n]}).status_code
    assert post_contact(0) == 201
    with queued.app_context():
        jobs.jobs().huey.flush()                          # the first contact's job is lost
    assert [post_contact(n) for n in (1, 2)] == [201, 201]
    assert len(follow_ups(queued)["due"]) == 3            # recorded on the tickets meanwhile
    with queued.app_context():
        assert jobs.jobs().pending() == 2
        assert service.requeue_follow_ups() == 3          # overdue (0 s here): queued again
        assert jobs.jobs().pending() == 5
    consumers(queued)
    wait_until(lambda: follow_ups(queued)["due"] == [] and queued.extensions["jobs"].pending() == 0)
    assert len(follow_ups(queued)["reports"]) == 3 == len(set(follow_ups(queued)["reports"]))
    with queued.app_context():
        [incident] = db.session.scalars(db.select(Ticket).filter_by(kind="incident")).all()
        assert incident.reports == 3
        assert service.requeue_follow_ups() == 0          # all done: nothing queued again
