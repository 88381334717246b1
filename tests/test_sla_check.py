"""``kb tickets sla-check`` on stored tickets, with a frozen clock (time-machine): business-hours
due times at creation, states, actions taken once, pauses while pending on the user."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from kb_server.cli import main
from kb_server.extensions import db
from kb_server.models.tickets import Ticket
from tests.tickets_helpers import STAFF, post

UTC = dt.timezone.utc
MONDAY_10_BERLIN = dt.datetime(2026, 11, 30, 9, tzinfo=UTC)
CONTACT = {"session_id": "s1", "email": "anna@example.com", "name": "Anna",
           "message": "How do I change my email?", "language": "en"}   # how_to, P3


@pytest.fixture
def office(app):
    app.config.update(SLA_CALENDARS={"office": {"time_zone": "Europe/Berlin",
                                                "hours": {"mon-fri": "09:00-17:00"},
                                                "holidays": ["12-25"]}},
                      SLA_CALENDAR="office",
                      SLA={"P3": {"first_response": "4h", "resolution": "16h"}},
                      SLA_ACTIONS={"due_soon": ["notify"], "breached": ["notify", "escalate"]})
    return app


def create_ticket(client, at: dt.datetime) -> str:
    with time_machine.travel(at, tick=False):
        response = post(client, "contact", CONTACT)
    assert response.status_code == 201
    return response.get_json()["ticket"]["reference"]


def ticket(app, reference: str) -> Ticket:
    with app.app_context():
        row = db.session.scalar(db.select(Ticket).filter_by(reference=reference))
        db.session.expunge(row)
        return row


def sla_check(app, at: dt.datetime) -> str:
    with time_machine.travel(at, tick=False):
        result = app.test_cli_runner().invoke(main, ["tickets", "sla-check"])
    assert result.exit_code == 0, result.output
    return result.output


def test_due_times_at_creation_follow_the_business_calendar(office, client):
    friday_4pm = dt.datetime(2026, 12, 4, 15, tzinfo=UTC)       # 16:00 Berlin, an hour left
    reference = create_ticket(client, friday_4pm)
    row = ticket(office, reference)
    assert row.sla_first_response_due == dt.datetime(2026, 12, 7, 11)   # Monday 12:00 Berlin
    assert row.sla_resolution_due == dt.datetime(2026, 12, 8, 15)       # two 8-hour days: Tuesday 16:00


def test_a_ticket_created_on_saturday_night_starts_on_monday(office, client):
    reference = create_ticket(client, dt.datetime(2026, 12, 5, 22, tzinfo=UTC))
    assert ticket(office, reference).sla_first_response_due == dt.datetime(2026, 12, 7, 12)


def test_sla_check_states_and_actions_once(office, client, caplog):
    reference = create_ticket(client, MONDAY_10_BERLIN)
    assert "ok: 1" in sla_check(office, MONDAY_10_BERLIN + dt.timedelta(hours=1))
    assert ticket(office, reference).sla_state == "ok"

    output = sla_check(office, MONDAY_10_BERLIN + dt.timedelta(hours=3, minutes=20))
    assert "due_soon: 1" in output and "action notify: 1" in output
    assert f"[{reference}] SLA first response due soon" in caplog.text
    again = sla_check(office, MONDAY_10_BERLIN + dt.timedelta(hours=3, minutes=30))
    assert "action" not in again                                  # taken once

    output = sla_check(office, MONDAY_10_BERLIN + dt.timedelta(hours=5))
    assert "breached: 1" in output and "action escalate: 1" in output
    row = ticket(office, reference)
    assert row.sla_state == "breached" and row.line == 2
    assert row.sla_next_due == dt.datetime(2026, 11, 30, 13)      # first response, 14:00 Berlin
    listed = client.get(f"/api/v1/tickets/{reference}", headers=STAFF).get_json()["ticket"]
    assert listed["sla_state"] == "breached" and listed["first_response_at"] is None


def test_sla_check_now_is_a_dry_run(office, client, caplog):
    """``--now`` shows what a check at that time would find and writes nothing: the real breach
    later still takes its actions."""
    reference = create_ticket(client, MONDAY_10_BERLIN)
    sla_check(office, MONDAY_10_BERLIN + dt.timedelta(hours=1))
    future = (MONDAY_10_BERLIN + dt.timedelta(hours=5)).replace(tzinfo=None)
    with time_machine.travel(MONDAY_10_BERLIN + dt.timedelta(hours=1, minutes=5), tick=False):
        result = office.test_cli_runner().invoke(
            main, ["tickets", "sla-check", "--now", future.isoformat(sep=" ")])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and "breached: 1" in result.output
    assert "action escalate: 1" in result.output
    row = ticket(office, reference)
    assert row.sla_state == "ok" and row.line == 1 and not row.sla_fired
    assert f"[{reference}] SLA" not in caplog.text
    output = sla_check(office, MONDAY_10_BERLIN + dt.timedelta(hours=5))
    assert "breached: 1" in output and "action escalate: 1" in output and "action notify: 1" in output


def test_sla_check_keeps_the_tickets_activity_time(office, client):
    reference = create_ticket(client, MONDAY_10_BERLIN)
    before = ticket(office, reference).updated_at
    sla_check(office, MONDAY_10_BERLIN + dt.timedelta(hours=1))
    assert ticket(office, reference).updated_at == before


def test_pending_on_the_user_pauses_the_clock(office, client):
    reference = create_ticket(client, MONDAY_10_BERLIN)
    with office.app_context(), time_machine.travel(MONDAY_10_BERLIN + dt.timedelta(hours=1), tick=False):
        row = db.session.scalar(db.select(Ticket).filter_by(reference=reference))
        row.status, row.first_response_at = "pending_user", MONDAY_10_BERLIN + dt.timedelta(hours=1)
        db.session.commit()
    # a week later, still waiting on the user: paused, not breached, no action
    output = sla_check(office, MONDAY_10_BERLIN + dt.timedelta(days=7))
    assert "paused: 1" in output and "action" not in output
    assert ticket(office, reference).sla_next_due is None


def test_raise_priority_action(office, client):
    office.config["SLA_ACTIONS"] = {"breached": ["raise_priority"]}
    reference = create_ticket(client, MONDAY_10_BERLIN)
    sla_check(office, MONDAY_10_BERLIN + dt.timedelta(hours=6))
    assert ticket(office, reference).priority == "P2"


def test_bad_sla_settings_stop_the_start(tmp_path):
    from kb_server import create_app
    from tests.conftest import app_config
    with pytest.raises(ValueError, match="unknown calendar"):
        create_app(app_config(tmp_path, SLA_CALENDAR="office"))
    with pytest.raises(ValueError, match="SLA_ACTIONS"):
        create_app(app_config(tmp_path, SLA_ACTIONS={"breached": ["panic"]}))


def test_calendars_file_from_the_environment(tmp_path):
    from kb_server.config import load_config
    from kb_server.tickets.calendar import parse_calendars
    path = tmp_path / "calendars.yml"
    path.write_text("office:\n  time_zone: Europe/Kyiv\n  hours:\n    mon-fri: 09:00-13:00, 14:00-18:00\n"
                    "  holidays: [2026-12-25, 01-01]\n", encoding="utf-8")
    config = load_config(tmp_path / "instance", env={"KB_SLA_CALENDARS": str(path),
                                                     "KB_SLA_CALENDAR": "office"})
    office = parse_calendars(config["SLA_CALENDARS"], config["TIME_ZONE"])["office"]
    assert office.is_holiday(dt.date(2026, 12, 25)) and office.is_holiday(dt.date(2030, 1, 1))
    # Thursday 2026-12-24 12:30 Kyiv (10:30 UTC) + 1h: 12:30-13:00, lunch, 14:00-14:30
    assert office.add(dt.datetime(2026, 12, 24, 10, 30), dt.timedelta(hours=1)) == dt.datetime(2026, 12, 24, 12, 30)


def test_a_resolved_ticket_is_checked_once_more(office, client):
    reference = create_ticket(client, MONDAY_10_BERLIN)
    assert ticket(office, reference).sla_state == "ok"                 # set at creation
    with office.app_context(), time_machine.travel(MONDAY_10_BERLIN + dt.timedelta(hours=1), tick=False):
        row = db.session.scalar(db.select(Ticket).filter_by(reference=reference))
        row.first_response_at, row.status = MONDAY_10_BERLIN + dt.timedelta(hours=1), "resolved"
        db.session.commit()
    assert "met: 1" in sla_check(office, MONDAY_10_BERLIN + dt.timedelta(hours=2))
    assert "no open tickets" in sla_check(office, MONDAY_10_BERLIN + dt.timedelta(hours=3))


def test_a_gap_ticket_has_a_resolution_target_only(office, client):
    """No user waits for a reply on a knowledge gap: no first response is due, none breaches,
    and the console says so."""
    from staff_helpers import STAFF_ADMIN, PASSWORD, login
    with time_machine.travel(MONDAY_10_BERLIN, tick=False):
        post(client, "events", {"session_id": "s1", "kind": "search", "query": "error 809 vpn",
                                "result_count": 0})
    with office.app_context():
        reference = db.session.scalar(db.select(Ticket.reference).filter_by(kind="gap"))
    row = ticket(office, reference)
    assert row.sla_first_response_due is None
    assert row.sla_next_due == row.sla_resolution_due is not None
    output = sla_check(office, MONDAY_10_BERLIN + dt.timedelta(hours=26))  # P4: a reply in 8h
    assert "ok: 1" in output and "action" not in output
    listed = client.get(f"/api/v1/tickets/{reference}", headers=STAFF).get_json()["ticket"]
    assert listed["sla_first_response_due"] is None and listed["sla_state"] == "ok"
    assert listed["sla_next_due"] == listed["sla_resolution_due"]
    login(client, STAFF_ADMIN, PASSWORD)
    page = client.get(f"/console/t/{reference}").get_data(as_text=True)
    assert "not applicable (no user waits for a reply)" in page


def test_an_incident_has_a_resolution_target_only(office, client):
    """An incident answers its users through their own tickets (and ``resolve-incident``): it
    has no first response of its own to miss."""
    with time_machine.travel(MONDAY_10_BERLIN, tick=False):
        for session in ("i1", "i2", "i3"):
            assert post(client, "contact", {"session_id": session, "email": f"{session}@example.com",
                                            "message": "Orbita is down, nothing works"}).status_code == 201
    with office.app_context():
        reference = db.session.scalar(db.select(Ticket.reference).filter_by(kind="incident"))
    row = ticket(office, reference)
    assert row.sla_first_response_due is None and row.sla_resolution_due is not None
    sla_check(office, MONDAY_10_BERLIN + dt.timedelta(hours=1))    # P1: a reply due in 15 min
    assert ticket(office, reference).sla_state == "ok"
