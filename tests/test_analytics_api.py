"""The analytics JSON API and CSV exports through the Flask test client, on a hand-built event
log stored in the database (past days are read from rollups, today from the events)."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from kb_server.analytics import rollup
from kb_server.cli import main
from kb_server.extensions import db
from kb_server.models import AnalyticsQueryDay, AnalyticsRollupDay, Event, Ticket, utcnow
from staff_helpers import add_staff, bearer, login

TODAY = utcnow().date()
PAST = TODAY - dt.timedelta(days=3)


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second))


def store(app, *events: dict) -> None:
    with app.app_context():
        for fields in events:
            db.session.add(Event(**{"language": "en", "site_key": "", **fields}))
        db.session.commit()


def day_log(day: dt.date, site: str = "") -> list[dict]:
    """One day: 3 intents (one typed in 3 keystroke searches), one clicked at position 2, one
    with no results; a second session that views an article, votes "not helpful" and contacts."""
    s = {"site_key": site}
    return [
        {"kind": "search", "session_id": "a", "query": "res", "result_count": 2,
         "result_ids": ["en/x", "en/y"], "created_at": at(day, 9, 0, 0), **s},
        {"kind": "search", "session_id": "a", "query": "reset", "result_count": 2,
         "result_ids": ["en/x", "en/y"], "created_at": at(day, 9, 0, 2), **s},
        {"kind": "search", "session_id": "a", "query": "reset password", "result_count": 2,
         "result_ids": ["en/x", "en/y"], "created_at": at(day, 9, 0, 4), **s},
        {"kind": "click", "session_id": "a", "article_id": "en/y", "created_at": at(day, 9, 0, 9), **s},
        {"kind": "search", "session_id": "a", "query": "=HYPERLINK(\"x\")", "result_count": 0,
         "created_at": at(day, 9, 5), **s},
        {"kind": "search", "session_id": "b", "query": "invoice", "result_count": 1,
         "result_ids": ["en/inv"], "created_at": at(day, 22, 30), **s},
        {"kind": "view", "session_id": "b", "article_id": "en/inv", "created_at": at(day, 22, 31), **s},
        {"kind": "feedback", "session_id": "b", "article_id": "en/inv",
         "data": {"helpful": False, "reason": "outdated"}, "created_at": at(day, 22, 32), **s},
        {"kind": "contact", "session_id": "b", "created_at": at(day, 22, 33), **s},
    ]


@pytest.fixture
def analyst(app):
    with app.app_context():
        return add_staff("ana@example.com", "analyst")


@pytest.fixture
def logged(app):
    store(app, *day_log(PAST), *day_log(TODAY, site="demo"))
    return app


def get(client, path, token, **params):
    return client.get(f"/api/v1/analytics/{path}", query_string=params, headers=bearer(token))


EXPECTED_DAY = {"searches": 3, "zero_result_rate": round(1 / 3, 4), "no_click_rate": 0.5,
                "ctr": 0.5, "mean_click_position": 2.0, "sessions": 2, "deflection_rate": 0.5,
                "helpful_rate": 0.0, "article_views": 1, "contacts": 1}


def test_summary_of_a_past_day_comes_from_its_rollup(client, logged, analyst):
    response = get(client, "summary", analyst, **{"from": PAST.isoformat(), "to": PAST.isoformat()})
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert {k: data[k] for k in EXPECTED_DAY} == EXPECTED_DAY
    assert data["not_helpful_reasons"] == {"outdated": 1}
    assert data["self_service_users"] == 2
    for key in ("self_service_score", "csat", "resolved_at_line1_rate", "link_rate"):
        assert key in data
    with logged.app_context():
        assert db.session.get(AnalyticsRollupDay, PAST) is not None       # stored on the way
        assert db.session.scalar(db.select(db.func.count()).select_from(AnalyticsQueryDay)) == 3
    again = get(client, "summary", analyst, **{"from": PAST.isoformat(), "to": PAST.isoformat()})
    assert again.get_json() == data                                        # rollup == live


def test_a_range_sums_its_days_and_filters_by_site_and_channel(client, logged, analyst):
    both = get(client, "summary", analyst, **{"from": PAST.isoformat()}).get_json()
    assert both["searches"] == 6 and both["sessions"] == 4 and both["ctr"] == 0.5
    widget = get(client, "summary", analyst, **{"from": PAST.isoformat(), "channel": "widget"}).get_json()
    assert widget["searches"] == 3
    demo = get(client, "summary", analyst, **{"from": PAST.isoformat(), "site": "demo"}).get_json()
    help_center = get(client, "summary", analyst, **{"from": PAST.isoformat(), "site": "-"}).get_json()
    assert demo["searches"] == help_center["searches"] == 3
    russian = get(client, "summary", analyst, **{"from": PAST.isoformat(), "language": "ru"}).get_json()
    assert russian["searches"] == 0 and russian["ctr"] is None


def test_self_service_score_counts_people_with_tickets(client, logged, analyst):
    with logged.app_context():
        for email in ("p@example.com", "P@example.com", "q@example.com"):
            db.session.add(Ticket(kind="contact", email=email, created_at=at(TODAY, 8)))
        db.session.commit()
    data = get(client, "summary", analyst, **{"from": PAST.isoformat()}).get_json()
    assert data["ticket_users"] == 2                     # e-mails compared case-insensitively
    assert data["self_service_users"] == 4               # browsers a and b on each of two days
    assert data["self_service_score"] == 2.0             # 4 / 2
    assert data["tickets"]["tickets"] == 3


def test_heatmap_in_a_time_zone(client, logged, analyst):
    data = get(client, "heatmap", analyst, **{"from": PAST.isoformat(), "to": PAST.isoformat(),
                                               "tz": "Asia/Tokyo"}).get_json()
    assert data["tz"] == "Asia/Tokyo" and len(data["counts"]) == 7
    assert all(len(row) == 24 for row in data["counts"]) and data["total"] == 3
    weekday = PAST.weekday()
    assert data["counts"][weekday][18] == 2                 # 09:00 UTC = 18:00 in Tokyo
    assert data["counts"][(weekday + 1) % 7][7] == 1        # 22:30 UTC = 07:30 next day
    contacts = get(client, "heatmap", analyst, **{"from": PAST.isoformat(), "metric": "contacts"}).get_json()
    assert contacts["total"] == 2 and contacts["tz"] == "UTC"


def test_queries_articles_and_their_csv(client, logged, analyst):
    span = {"from": PAST.isoformat(), "to": PAST.isoformat()}
    top = get(client, "queries", analyst, **span).get_json()["queries"]
    assert [(q["query"], q["searches"], q["clicked"]) for q in top] == [
        ('=hyperlink("x")', 1, 0), ("invoice", 1, 0), ("reset password", 1, 1)]
    failed = get(client, "queries", analyst, order="failed", **span).get_json()["queries"]
    assert {q["query"] for q in failed} == {"invoice", "=hyperlink(\"x\")"}
    response = get(client, "queries", analyst, format="csv", **span)
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert "'=hyperlink(\"x\")" in {row["query"] for row in rows}        # not a formula
    articles = get(client, "articles", analyst, **span).get_json()["articles"]
    inv = next(a for a in articles if a["article_id"] == "en/inv")
    assert (inv["views"], inv["votes"], inv["helpful_rate"], inv["contacts_after"]) == (1, 1, 0.0, 1)
    assert inv["reasons"] == {"outdated": 1}
    heat = get(client, "heatmap", analyst, format="csv", **span).get_data(as_text=True)
    assert heat.splitlines()[0].startswith("weekday,0,1,2") and len(heat.splitlines()) == 8
    summary = get(client, "summary", analyst, format="csv", **span).get_data(as_text=True)
    assert "searches,3" in summary and "tickets.resolved," in summary


def test_content_gaps_link_to_writing_an_article(client, app, analyst):
    from tickets_helpers import search
    for session in ("g1", "g2"):
        search(client, session, "vpn error 809", language="en")
    gaps = get(client, "gaps", analyst).get_json()["gaps"]
    assert len(gaps) == 1 and gaps[0]["users"] == 2 and gaps[0]["query"] == "vpn error 809"
    assert gaps[0]["write_url"] == f"/console/articles/new?ticket={gaps[0]['reference']}"


@pytest.mark.parametrize("params,message", [
    ({"from": "2026-13-01"}, "'from' must be a date"),
    ({"to": "yesterday"}, "'to' must be a date"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "must not be after"),
    ({"from": "2020-01-01", "to": "2026-01-01"}, "at most"),
    ({"language": "english!"}, "'language'"),
    ({"channel": "fax"}, "'channel'"),
    ({"site": "<script>"}, "'site'"),
    ({"format": "xml"}, "'format'"),
])
def test_bad_parameters_are_4xx_json(client, analyst, params, message):
    response = get(client, "summary", analyst, **params)
    assert response.status_code == 400 and message in response.get_json()["error"]


@pytest.mark.parametrize("params", [{"tz": "Mars/Olympus"}, {"tz": "../../etc/passwd"},
                                    {"metric": "moods"}])
def test_bad_heatmap_parameters(client, analyst, params):
    response = get(client, "heatmap", analyst, **params)
    assert response.status_code == 400 and response.get_json()["error"]


def test_only_analysts_and_admins_with_a_token_or_a_session(client, app, analyst):
    assert client.get("/api/v1/analytics/summary").status_code == 401
    assert client.get("/api/v1/analytics/summary", headers=bearer("nope")).status_code == 401
    with app.app_context():
        agent = add_staff("agent@example.com", "agent", line=1)
        add_staff("editor@example.com", "editor")
    assert get(client, "summary", agent).status_code == 403
    assert get(client, "heatmap", "test-token").status_code == 200          # the admin
    login(client, "editor@example.com")
    assert client.get("/api/v1/analytics/summary").status_code == 403
    client.post("/console/logout")
    login(client, "ana@example.com")
    assert client.get("/api/v1/analytics/summary").status_code == 200        # the session


def test_retention_forgets_old_query_texts(app, logged):
    from kb_server.privacy import apply_retention
    with app.app_context():
        rollup.ensure(PAST, PAST)
        result = apply_retention(now=utcnow() + dt.timedelta(days=app.config["RETENTION_EVENT_DAYS"]))
        assert result["analytics_queries_deleted"] == 3
        assert db.session.get(AnalyticsRollupDay, PAST) is not None           # counts stay


def test_kb_analytics_rollup_command(runner, logged):
    result = runner.invoke(main, ["analytics", "rollup"])
    assert result.exit_code == 0, result.output
    assert "3 days rolled up" in result.output                 # PAST and the two days after
    with logged.app_context():
        assert db.session.get(AnalyticsRollupDay, PAST) is not None
        assert db.session.get(AnalyticsRollupDay, TODAY) is None               # not final yet


def test_link_rate_counts_the_tickets_linked_to_articles_in_the_console(client, app, analyst):
    from kb_server.console import kcs
    with app.app_context():
        done = [Ticket(kind="contact", status="resolved", created_at=at(TODAY, 8),
                       resolved_at=at(TODAY, 9)) for _ in range(2)]
        db.session.add_all([*done, Ticket(kind="contact", created_at=at(TODAY, 8))])
        db.session.flush()
        kcs.link_article(done[0], "en", "reset-password", "resolved_with", "system")
        db.session.commit()
    data = get(client, "summary", analyst, **{"from": TODAY.isoformat()}).get_json()
    assert data["link_rate"] == 0.5
