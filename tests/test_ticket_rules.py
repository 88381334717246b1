"""Unresolved-search rules and their grouping into knowledge-gap tickets."""
from __future__ import annotations

import datetime as dt

import pytest

from kb_server.extensions import db
from kb_server.models import utcnow
from kb_server.tickets import rules, service
from kb_server.cli.tickets import tickets as tickets_cli
from kb_server.models import Event
from kb_server.models.tickets import Ticket, TicketSignal
from tests.conftest import make_app
from tests.search_helpers import copy_fixture_kb, write_article
from tests.tickets_helpers import STAFF, add_event, gap_tickets, post, search

LATER = dt.timedelta(minutes=31)   # past the default 30-minute no-click window


def process(app, after: dt.timedelta = LATER) -> dict:
    with app.app_context():
        return service.process_pending(utcnow() + after)


# --- each rule ---------------------------------------------------------------------------------
def test_zero_results_opens_a_gap_ticket_at_once(app, client):
    search(client, "s1", "Ошибка 809 VPN?", language="ru", page_url="https://app.example/vpn")
    [gap] = gap_tickets(app)
    assert gap["kind"] == "gap" and gap["status"] == "new" and gap["line"] == 1
    assert gap["reference"].startswith("LZ-")
    assert gap["subject"] == '1 user searched "ошибка 809 vpn" and found nothing'
    assert gap["gap"]["users"] == 1
    assert gap["gap"]["signals"] == {"zero_results": 1}
    assert gap["gap"]["pages"] == ["https://app.example/vpn"]
    assert gap["gap"]["languages"] == ["ru"]
    assert gap["request_class"] == "documentation_gap" and gap["priority"] == "P4"


def test_search_without_click_becomes_a_gap_after_the_window(app, client):
    search(client, "s1", "change billing address", ["en/download-invoices"])
    assert process(app, dt.timedelta(minutes=29)) == {}
    assert gap_tickets(app) == []
    assert process(app) == {"no_click": 1}
    [gap] = gap_tickets(app)
    assert gap["subject"] == \
        '1 user searched "change billing address" and opened none of the results'


def test_search_followed_by_click_is_no_gap(app, client):
    search(client, "s1", "reset password", ["en/reset-password"])
    post(client, "events", {"session_id": "s1", "kind": "click", "article_id": "en/reset-password"})
    assert process(app) == {"none": 1}
    assert gap_tickets(app) == []


def test_click_in_another_session_or_after_the_window_does_not_count(app):
    add_event(app, 120, kind="search", session_id="s1", query="export data", result_count=1,
              result_ids=["en/a"])
    add_event(app, 119, kind="click", session_id="s2", article_id="en/a")
    add_event(app, 60, kind="click", session_id="s1", article_id="en/a")   # 60 min later
    assert process(app, dt.timedelta(0)) == {"no_click": 1}
    assert len(gap_tickets(app)) == 1


def test_not_helpful_feedback_opens_a_gap_with_article_and_reasons(app, client):
    search(client, "s1", "download invoice", ["en/download-invoices"])
    post(client, "events", {"session_id": "s1", "kind": "view",
                            "article_id": "en/download-invoices"})
    post(client, "feedback", {"session_id": "s1", "article_id": "en/download-invoices",
                              "helpful": False, "reason": "outdated", "comment": "No such button"})
    [gap] = gap_tickets(app)
    assert gap["gap"]["query"] == "download invoice"     # the query the session searched
    assert gap["gap"]["articles"] == {"en/download-invoices": {"count": 1,
                                                               "reasons": {"outdated": 1}}}
    assert gap["gap"]["comments"][0]["comment"] == "No such button"
    assert gap["subject"] == '1 user searched "download invoice" and found the answer not helpful'


def test_helpful_feedback_is_no_gap(app, client):
    post(client, "feedback", {"session_id": "s1", "article_id": "en/two-factor", "helpful": True})
    assert gap_tickets(app) == []
    assert process(app) == {"none": 1}


def test_not_helpful_without_any_query_groups_by_article(app, client):
    for session in ("a", "b"):
        post(client, "feedback", {"session_id": session, "article_id": "en/two-factor",
                                  "helpful": False, "reason": "unclear"})
    [gap] = gap_tickets(app)
    assert gap["subject"] == "2 users found article en/two-factor not helpful"
    assert gap["gap"]["articles"]["en/two-factor"]["reasons"] == {"unclear": 2}


# --- only questions about the product become gap tickets --------------------------------------
OFF_TOPIC = ["pizza recipe", "qwzxvpl", "!!!"]
IN_DOMAIN = "how do I export my invoices to xero"    # invoices: yes; xero: not documented


def _failed_searches(app, client) -> list[str]:
    """Search the off-topic queries and the in-domain one, finding nothing; the rule each
    event was judged by."""
    for n, query in enumerate([*OFF_TOPIC, IN_DOMAIN]):
        search(client, f"s{n}", query)
    with app.app_context():
        rows = db.session.execute(db.select(Event.query, TicketSignal.rule)
                                  .join(TicketSignal, TicketSignal.event_id == Event.id)
                                  .order_by(Event.id)).all()
    return [rule for _, rule in rows]


@pytest.fixture(scope="module", params=["keyword", "hybrid"])
def domain_app(request, tmp_path_factory):
    """An app ranking by keywords, or by the e5 embedder too (its sections embedded), on the
    fixture knowledge base and an article on exports (invoices and exports are its domain)."""
    from kb_server import search as search_seam
    root = tmp_path_factory.mktemp(request.param)
    kb = copy_fixture_kb(root / "articles")
    write_article(kb, "en", "export-data", "Export your data",
                  "Download a ZIP archive of your workspace: Settings, Export, Start export.",
                  category="account")
    hybrid = {"EMBEDDER": "e5", "SEARCH_MODE": "hybrid"} if request.param == "hybrid" else {}
    app = make_app(root, GAP_IN_DOMAIN_ONLY=True, **hybrid)
    if hybrid:
        with app.app_context():
            search_seam.reindex()
            assert search_seam.health()["mode"] == "hybrid"
    return app


def test_only_failed_searches_about_the_product_open_gap_tickets(domain_app):
    judged = _failed_searches(domain_app, domain_app.test_client())
    assert judged == ["off_topic", "off_topic", "none", "zero_results"]
    [gap] = gap_tickets(domain_app)
    assert gap["gap"]["query"] == IN_DOMAIN.lower()
    with domain_app.app_context():     # every failed search stays in analytics
        assert db.session.scalar(db.select(db.func.count()).select_from(Event)
                                 .where(Event.result_count == 0)) == 4
        service_ = domain_app.extensions["search"]
        keyword_only = domain_app.config["SEARCH_MODE"] == "keyword"
        assert (service_.semantic is None) == keyword_only
        assert not service_.in_domain("tell me a joke")
        if keyword_only:       # one common word of the knowledge base ("long") is not enough
            assert not service_.in_domain("how long to boil an egg")


def test_every_failed_search_opens_a_gap_ticket_when_the_domain_rule_is_off(app, client):
    app.config["GAP_IN_DOMAIN_ONLY"] = False
    _failed_searches(app, client)
    assert [gap["gap"]["query"] for gap in gap_tickets(app)] == \
        ["pizza recipe", "qwzxvpl", IN_DOMAIN.lower()]


# --- grouping ----------------------------------------------------------------------------------
VARIANTS = ["ошибка 809 vpn", "Ошибка 809 VPN?", "ошибки 809 vpn", "ОШИБКА 809 VPN!!!",
            "Здравствуйте, ошибка 809 VPN", "ошибка 809 vpn, помогите"]


def test_variants_of_one_need_make_one_gap_ticket_counting_users(app, client):
    for n in range(14):
        search(client, f"user-{n}", VARIANTS[n % len(VARIANTS)], language="ru",
               page_url=f"https://app.example/page{n % 3}")
    search(client, "user-0", "ошибка 809 vpn")            # the same user again
    search(client, "other", "как скачать счёт")            # a different need
    tickets = gap_tickets(app)
    assert len(tickets) == 2
    vpn, invoice = tickets
    assert vpn["gap"]["users"] == 14
    assert vpn["subject"] == '14 users searched "ошибка 809 vpn" and found nothing'
    assert vpn["gap"]["signals"] == {"zero_results": 15}
    assert vpn["gap"]["sample_queries"][0] == "ошибка 809 vpn"
    assert len(vpn["gap"]["pages"]) == 3
    assert vpn["gap"]["first_seen"] <= vpn["gap"]["last_seen"]
    assert invoice["gap"]["users"] == 1 and invoice["gap"]["query"] == "как скачать счёт"


def test_similar_query_joins_and_a_broader_one_does_not(app, client):
    search(client, "a", "ошибка 809 vpn")
    search(client, "b", "ошибка 809 при подключении vpn")   # Jaccard 3/4
    search(client, "c", "vpn")                              # Jaccard 1/3
    first, second = gap_tickets(app)
    assert first["gap"]["users"] == 2 and second["gap"]["query"] == "vpn"


def test_signals_of_all_rules_join_the_same_gap(app, client):
    search(client, "a", "error 809 vpn")
    search(client, "b", "Error 809 VPN", ["en/two-factor"])
    post(client, "feedback", {"session_id": "c", "article_id": "en/two-factor", "helpful": False,
                              "query": "error 809 vpn"})
    process(app)
    [gap] = gap_tickets(app)
    assert gap["gap"]["users"] == 3
    assert gap["gap"]["signals"] == {"zero_results": 1, "not_helpful": 1, "no_click": 1}


def test_a_resolved_gap_is_not_reopened_by_new_signals(app, client):
    search(client, "a", "ошибка 809 vpn")
    with app.app_context():
        db.session.scalar(db.select(Ticket)).status = "resolved"
        db.session.commit()
    search(client, "b", "ошибка 809 vpn")
    assert [t["status"] for t in gap_tickets(app)] == ["resolved", "new"]


def test_similarity_hook_is_pluggable(app, client):
    calls = []

    def always_same(a, b):
        calls.append((a.text, b.text))
        return 1.0

    app.config["GAP_SIMILARITY_FUNCTION"] = always_same
    search(client, "a", "ошибка 809 vpn")
    search(client, "b", "download invoice")
    assert len(gap_tickets(app)) == 1
    assert calls == [("download invoice", "ошибка 809 vpn")]


# --- when the rules run ------------------------------------------------------------------------
def test_processing_is_idempotent(app, client):
    search(client, "a", "change billing address", ["en/download-invoices"])
    search(client, "b", "change billing address", ["en/download-invoices"])
    assert process(app) == {"no_click": 2}
    assert process(app) == {}
    assert gap_tickets(app)[0]["gap"]["users"] == 2


def test_failed_arrival_rule_is_caught_up_later(app, client, monkeypatch):
    monkeypatch.setattr(service, "_gap_ticket_for", lambda *a: 1 / 0)
    search(client, "a", "ошибка 809 vpn")                   # stored despite the failure
    monkeypatch.undo()
    assert gap_tickets(app) == []
    assert process(app, dt.timedelta(0)) == {"zero_results": 1}
    assert len(gap_tickets(app)) == 1


def test_no_click_rule_can_be_switched_off_and_window_configured(app, client):
    app.config["NO_CLICK_MINUTES"] = 5
    search(client, "a", "change billing address", ["en/download-invoices"])
    app.config["UNRESOLVED_RULES"] = ("zero_results", "not_helpful")
    assert process(app, dt.timedelta(minutes=6)) == {"none": 1}
    app.config["UNRESOLVED_RULES"] = rules.RULES
    search(client, "b", "change billing address", ["en/download-invoices"])
    assert process(app, dt.timedelta(minutes=6)) == {"no_click": 1}


def test_cli_processes_pending(app, runner):
    add_event(app, 45, kind="search", session_id="a", query="export data", result_count=1)
    result = runner.invoke(tickets_cli, ["process"])
    assert result.exit_code == 0, result.output
    assert "no_click: 1" in result.output
    assert len(gap_tickets(app)) == 1


def test_cli_refuses_to_judge_searches_at_a_future_time(app, runner):
    add_event(app, 1, kind="search", session_id="a", query="export data", result_count=1)
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    result = runner.invoke(tickets_cli, ["process", "--now", later])
    assert result.exit_code == 2 and "--now" in result.output
    assert gap_tickets(app) == []        # the search a user may still click stays unjudged


def test_staff_listing_runs_pending_rules(app, client):
    add_event(app, 45, kind="search", session_id="a", query="export data", result_count=1)
    tickets = client.get("/api/v1/tickets?kind=gap", headers=STAFF).get_json()["tickets"]
    assert [t["subject"] for t in tickets] == \
        ['1 user searched "export data" and opened none of the results']


# --- pure functions ----------------------------------------------------------------------------
def test_need_normalises_case_punctuation_politeness_and_word_forms():
    keys = {rules.need_for_query(q, "ru").key for q in VARIANTS}
    assert len(keys) == 1
    assert rules.need_for_query("помилка 809 vpn", "uk").key != keys.pop()
    assert rules.need_for_query("?!", "en") is None


def test_jaccard_and_best_match():
    a = rules.need_for_query("error 809 vpn")
    b = rules.need_for_query("vpn error 809 on connect")
    c = rules.need_for_query("download invoice")
    assert rules.jaccard(a, b) == pytest.approx(3 / 4)
    assert rules.jaccard(a, c) == 0
    assert rules.best_match(a, [(1, c), (2, b)], 0.6) == 2
    assert rules.best_match(a, [(1, c)], 0.6) is None
