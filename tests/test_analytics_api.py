"""The analytics JSON API and CSV exports through the Flask test client, on a hand-built event
log (``analytics_helpers``): past days are read from rollups, today from the events."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from analytics_helpers import GAP_QUERY, PAST, TODAY, day_log, shared, store  # noqa: F401
from kb_server.analytics import rollup
from kb_server.cli import main
from kb_server.extensions import db
from kb_server.models import AnalyticsQueryDay, AnalyticsRollupDay, Ticket, utcnow
from staff_helpers import bearer, login


@pytest.fixture
def api(shared):  # noqa: F811
    app, analyst, _ = shared
    client = app.test_client()
    return lambda path, token=analyst, **params: client.get(
        f"/api/v1/analytics/{path}", query_string=params, headers=bearer(token))


PAST_DAY = {"from": PAST.isoformat(), "to": PAST.isoformat()}
EXPECTED_DAY = {"searches": 3, "zero_result_rate": round(1 / 3, 4), "no_click_rate": 0.5,
                "ctr": 0.5, "mean_click_position": 2.0, "sessions": 2, "deflection_rate": 0.5,
                "helpful_rate": 0.0, "article_views": 1, "contacts": 1, "self_service_users": 2}


def test_summary_of_a_past_day_comes_from_its_rollup(api, shared):  # noqa: F811
    response = api("summary", **PAST_DAY)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert {k: data[k] for k in EXPECTED_DAY} == EXPECTED_DAY
    assert data["not_helpful_reasons"] == {"outdated": 1}
    for key in ("self_service_score", "csat", "resolved_at_line1_rate", "link_rate"):
        assert key in data
    with shared[0].app_context():
        assert db.session.get(AnalyticsRollupDay, PAST) is not None       # stored on the way
        assert db.session.scalar(db.select(db.func.count()).select_from(AnalyticsQueryDay)
                                 .where(AnalyticsQueryDay.day == PAST)) == 3
    assert api("summary", **PAST_DAY).get_json() == data                  # rollup == live


def test_a_range_sums_its_days_and_filters_by_site_and_channel(api):
    both = api("summary", **{"from": PAST.isoformat()}).get_json()
    # 3 + 3 intents of the two days and the 2 gap searches of today; 2 + 2 + 2 sessions
    assert both["searches"] == 8 and both["sessions"] == 6 and both["ctr"] == 0.5
    assert api("summary", **{"from": PAST.isoformat(), "channel": "widget"}).get_json()["searches"] == 3
    assert api("summary", **{"from": PAST.isoformat(), "site": "demo"}).get_json()["searches"] == 3
    assert api("summary", **{"from": PAST.isoformat(), "site": "-"}).get_json()["searches"] == 5
    russian = api("summary", **{"from": PAST.isoformat(), "language": "ru"}).get_json()
    assert russian["searches"] == 0 and russian["ctr"] is None


def test_self_service_score_counts_people_with_tickets_per_day(api):
    data = api("summary", **{"from": PAST.isoformat()}).get_json()
    assert data["ticket_users"] == 2                     # e-mails compared case-insensitively
    assert data["self_service_users"] == 6               # a, b on each day; g1, g2 today
    assert data["self_service_score"] == 3.0             # 6 / 2
    assert data["tickets"]["tickets"] == 3


def test_heatmap_in_a_time_zone(api):
    data = api("heatmap", **PAST_DAY, tz="Asia/Tokyo").get_json()
    assert data["tz"] == "Asia/Tokyo" and len(data["counts"]) == 7
    assert all(len(row) == 24 for row in data["counts"]) and data["total"] == 3
    weekday = PAST.weekday()
    assert data["counts"][weekday][18] == 2                 # 09:00 UTC = 18:00 in Tokyo
    assert data["counts"][(weekday + 1) % 7][7] == 1        # 22:30 UTC = 07:30 next day
    contacts = api("heatmap", **{"from": PAST.isoformat()}, metric="contacts").get_json()
    assert contacts["total"] == 2 and contacts["tz"] == "UTC"


def test_queries_articles_gaps_and_their_csv(api):
    top = api("queries", **PAST_DAY).get_json()["queries"]
    assert [(q["query"], q["searches"], q["clicked"]) for q in top] == [
        ('=hyperlink("x")', 1, 0), ("invoice", 1, 0), ("reset password", 1, 1)]
    failed = api("queries", **PAST_DAY, order="failed").get_json()["queries"]
    assert {q["query"] for q in failed} == {"invoice", '=hyperlink("x")'}
    response = api("queries", **PAST_DAY, format="csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert "'=hyperlink(\"x\")" in {row["query"] for row in rows}        # not a formula
    articles = api("articles", **PAST_DAY).get_json()["articles"]
    inv = next(a for a in articles if a["article_id"] == "en/inv")
    assert (inv["views"], inv["votes"], inv["helpful_rate"], inv["contacts_after"]) == (1, 1, 0.0, 1)
    assert inv["reasons"] == {"outdated": 1}
    heat = api("heatmap", **PAST_DAY, format="csv").get_data(as_text=True)
    assert heat.splitlines()[0].startswith("weekday,0,1,2") and len(heat.splitlines()) == 8
    summary = api("summary", **PAST_DAY, format="csv").get_data(as_text=True)
    assert "searches,3" in summary and "tickets.resolved," in summary
    days = api("daily", **{"from": PAST.isoformat()}).get_json()["days"]
    assert [d["searches"] for d in days] == [3, 0, 0, 5]
    gaps = api("gaps").get_json()["gaps"]
    assert len(gaps) == 1 and gaps[0]["users"] == 2 and gaps[0]["query"] == GAP_QUERY
    assert gaps[0]["answered"] is False and gaps[0]["answered_by"] is None
    assert gaps[0]["write_url"] == f"/console/articles/new?ticket={gaps[0]['reference']}"


BAD_SUMMARY = [
    ({"from": "2026-13-01"}, "'from' must be a date"),
    ({"to": "yesterday"}, "'to' must be a date"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "must not be after"),
    ({"from": "2020-01-01", "to": "2026-01-01"}, "at most"),
    ({"language": "english!"}, "'language'"),
    ({"channel": "fax"}, "'channel'"),
    ({"site": "<script>"}, "'site'"),
    ({"format": "xml"}, "'format'"),
]
BAD_HEATMAP = [({"tz": "Mars/Olympus"}, "'tz'"), ({"tz": "../../etc/passwd"}, "'tz'"),
               ({"metric": "moods"}, "'metric'")]


def test_bad_parameters_are_4xx_json(api):
    for path, cases in (("summary", BAD_SUMMARY), ("heatmap", BAD_HEATMAP)):
        for params, message in cases:
            response = api(path, **params)
            assert response.status_code == 400, params
            assert message in response.get_json()["error"], params


def test_only_analysts_and_admins_with_a_token_or_a_session(api, shared):  # noqa: F811
    app, _, agent = shared
    client = app.test_client()
    assert client.get("/api/v1/analytics/summary").status_code == 401
    assert api("summary", token="nope").status_code == 401
    assert api("summary", token=agent).status_code == 403
    assert api("heatmap", token="test-token").status_code == 200           # the admin
    login(client, "editor@example.com")
    assert client.get("/api/v1/analytics/summary").status_code == 403
    client.post("/console/logout")
    login(client, "ana@example.com")
    assert client.get("/api/v1/analytics/summary").status_code == 200        # the session


def test_rollup_command_then_retention_forgets_old_query_texts(app, runner):
    store(app, *day_log(PAST))
    result = runner.invoke(main, ["analytics", "rollup"])
    assert result.exit_code == 0, result.output
    assert "3 days rolled up" in result.output                 # PAST and the two days after
    from kb_server.privacy import apply_retention
    with app.app_context():
        assert db.session.get(AnalyticsRollupDay, TODAY) is None               # not final yet
        later = utcnow() + dt.timedelta(days=app.config["RETENTION_EVENT_DAYS"])
        assert apply_retention(now=later)["analytics_queries_deleted"] == 3
        assert db.session.get(AnalyticsRollupDay, PAST) is not None           # counts stay
    assert rollup.is_final(PAST) and not rollup.is_final(TODAY)


def summary_as_admin(client, **params) -> dict:
    """The summary on a test's own app (the template database's admin token)."""
    response = client.get("/api/v1/analytics/summary", query_string=params,
                          headers=bearer("test-token"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_link_rate_counts_the_tickets_linked_to_articles_in_the_console(client, app):
    from kb_server.console import kcs
    with app.app_context():
        done = [Ticket(kind="contact", status="resolved", created_at=dt.datetime.combine(TODAY, dt.time(8)),
                       resolved_at=dt.datetime.combine(TODAY, dt.time(9))) for _ in range(2)]
        db.session.add_all([*done, Ticket(kind="contact", created_at=dt.datetime.combine(TODAY, dt.time(8)))])
        db.session.flush()
        kcs.link_article(done[0], "en", "reset-password", "resolved_with", "system")
        db.session.commit()
    data = summary_as_admin(client, **{"from": TODAY.isoformat()})
    assert data["link_rate"] == 0.5


def test_suggestion_accuracy_is_the_share_of_suggested_classes_agents_kept(client, app):
    from kb_server.tickets import corrections
    with app.app_context():
        kept, changed, other_site = (
            Ticket(kind="contact", request_class="outage", suggested_class="outage",
                   site_key=site, created_at=dt.datetime.combine(TODAY, dt.time(8))) for site in ("", "", "demo"))
        # classed by construction, never "kept" by an agent: not counted, like every line metric
        by_construction = [Ticket(kind=kind, request_class=name, suggested_class=name,
                                  created_at=dt.datetime.combine(TODAY, dt.time(8)))
                           for kind, name in (("gap", "documentation_gap"), ("incident", "outage"))]
        db.session.add_all([kept, changed, other_site, *by_construction])
        db.session.flush()
        corrections.record(changed, "how_to", None)
        changed.request_class = "how_to"
        db.session.commit()
    today = {"from": TODAY.isoformat()}
    assert summary_as_admin(client, **today)["suggestion_accuracy"] == round(2 / 3, 4)
    assert summary_as_admin(client, **today, site="-")["suggestion_accuracy"] == 0.5
