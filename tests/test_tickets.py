"""Contact tickets, classification and SLA, and the staff ticket API."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from kb_server import search as search_seam
from kb_server.tickets import classify as classify_module
from kb_server.tickets.classify import classify
from kb_server.tickets.service import request_text as service_request_text
from kb_server.tickets.sla import parse_duration
from tests.tickets_helpers import STAFF, UA, add_site, post, search

CONTACT = {"session_id": "s1", "email": "anna@example.com", "name": "Anna",
           "message": "Where do I find my invoices?", "page_url": "https://app.example/billing",
           "language": "en"}


def contact(client, **changes):
    """Post a contact as the widget does; the ticket as staff see it."""
    response = post(client, "contact", {**CONTACT, **changes})
    assert response.status_code == 201, response.get_json()
    return detail(client, response.get_json()["ticket"]["reference"])


def detail(client, reference: str) -> dict:
    response = client.get(f"/api/v1/tickets/{reference}", headers=STAFF)
    assert response.status_code == 200
    return response.get_json()["ticket"]


def test_the_user_gets_the_reference_and_no_internal_fields(client):
    response = post(client, "contact", CONTACT)
    assert set(response.get_json()["ticket"]) == {"reference", "created_at"}


def parse(timestamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(timestamp.rstrip("Z"))


# --- contact -----------------------------------------------------------------------------------
def test_contact_creates_a_line1_ticket(client):
    ticket = contact(client)
    assert re.fullmatch(r"LZ-\d{6}", ticket["reference"])
    assert ticket["kind"] == "contact" and ticket["status"] == "new" and ticket["line"] == 1
    assert ticket["message"] == CONTACT["message"]
    assert ticket["email"] == "anna@example.com" and ticket["name"] == "Anna"
    assert ticket["request_class"] == "how_to" and ticket["priority"] == "P3"
    assert ticket["user_agent"] == UA and ticket["page_url"] == CONTACT["page_url"]
    second = contact(client)
    assert second["reference"] != ticket["reference"]


def test_contact_ticket_carries_the_whole_session(client):
    search(client, "s1", "invoice pdf", ["en/download-invoices", "ru/download-invoices"],
           page_url="https://app.example/billing", language="en")
    post(client, "events", {"session_id": "s1", "kind": "click",
                            "article_id": "en/download-invoices"})
    post(client, "feedback", {"session_id": "s1", "article_id": "en/download-invoices",
                              "helpful": False, "reason": "not_solved", "comment": "no PDF"})
    search(client, "s1", "invoice xml export")                   # nothing found
    search(client, "other", "unrelated query", ["en/two-factor"])  # another session
    ticket = detail(client, contact(client, query="invoice xml")["reference"])
    context = ticket["context"]
    assert [q["query"] for q in context["queries"]] == ["invoice pdf", "invoice xml export"]
    assert context["queries"][1]["result_count"] == 0
    assert context["results_shown"] == ["en/download-invoices", "ru/download-invoices"]
    assert [a["article_id"] for a in context["articles_opened"]] == ["en/download-invoices"]
    assert context["feedback"] == [{"article_id": "en/download-invoices", "helpful": False,
                                    "reason": "not_solved", "comment": "no PDF",
                                    "at": context["feedback"][0]["at"]}]
    assert context["pages"] == ["https://app.example/billing"]
    assert len(context["gap_tickets"]) == 2          # the zero-result and not-helpful gaps
    assert ticket["subject"] == "Where do I find my invoices?"     # the message, not the last query
    assert ticket["session_id"] == "s1" and ticket["language"] == "en"


def test_contact_falls_back_to_the_sessions_page_and_language(client):
    search(client, "s1", "рахунок", language="uk", page_url="https://app.example/uk/billing")
    ticket = contact(client, page_url=None, language=None, message="Де мій рахунок?")
    assert ticket["page_url"] == "https://app.example/uk/billing" and ticket["language"] == "uk"


def test_contact_without_session_still_makes_a_ticket(client):
    ticket = contact(client, session_id=None, language=None, message="Не могу найти счёт")
    assert ticket["language"] == "ru"
    assert detail(client, ticket["reference"])["context"]["queries"] == []


def test_contact_works_while_search_is_down(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("search index unavailable")

    for name in ("service", "search", "suggest"):
        monkeypatch.setattr(search_seam, name, broken)
    search(client, "s1", "ошибка 809 vpn")
    ticket = contact(client, message="Всё сломалось, ошибка 809")
    stored = detail(client, ticket["reference"])
    assert stored["message"] == "Всё сломалось, ошибка 809"
    assert stored["context"]["queries"][0]["query"] == "ошибка 809 vpn"


def test_a_contact_is_classed_by_its_message_and_the_sessions_searches(client):
    search(client, "s1", "login 502")
    search(client, "s1", "invoice logo")
    search(client, "other", "export csv")                  # another session's search says nothing
    ticket = contact(client, message="hi, help please")
    assert (ticket["request_class"], ticket["priority"]) == ("outage", "P1")
    assert ticket["suggestion"]["method"] == "rule" and ticket["suggestion"]["matched"] == ["502"]
    assert ticket["subject"] == "hi, help please"          # the message, not a query
    assert contact(client, session_id="s2", message="hi, help please")["request_class"] == "how_to"


def test_a_contact_without_a_message_is_classed_by_its_searches(app, client):
    search(client, "s1", "login 502")
    with app.app_context():
        from kb_server.tickets import service
        ticket = service.create_contact_ticket(
            {"kind": "contact", "session_id": "s1", "language": "en"}, "", "anna@example.com", "Anna")
        assert (ticket.request_class, ticket.subject) == ("outage", "login 502")


def test_the_request_text_is_the_message_then_the_latest_distinct_searches():
    queries = [{"query": q} for q in ("a", "b", "a", "c", "d", " ")]
    assert service_request_text("msg", "", queries) == "msg\nd\nc\na"
    assert service_request_text("", "d", queries) == "d\nc\na"
    assert service_request_text("msg", "", []) == "msg"


def test_contact_for_a_site(app, client):
    add_site(app, "acme")
    assert contact(client, site="acme")["site_key"] == "acme"


def test_message_is_stored_raw_and_returned_as_plain_text(client):
    text = "<script>alert(1)</script> & <b>bold</b>"
    ticket = contact(client, message=text)
    response = client.get(f"/api/v1/tickets/{ticket['reference']}", headers=STAFF)
    assert response.mimetype == "application/json"
    assert response.get_json()["ticket"]["message"] == text


@pytest.mark.parametrize("changes", [
    {"email": None}, {"email": ""}, {"email": "not-an-email"}, {"email": "a@b"},
    {"email": "a b@example.com"}, {"email": "<a@example.com>"}, {"email": "x" * 250 + "@a.co"},
    {"message": None}, {"message": "   "}, {"message": "x" * 5001}, {"message": 42},
    {"name": "x" * 201}, {"session_id": "no spaces allowed"}, {"page_url": "data:text/html,x"},
])
def test_malformed_contact_is_400_json(client, changes):
    body = {key: value for key, value in {**CONTACT, **changes}.items() if value is not None}
    response = post(client, "contact", body)
    assert response.status_code == 400
    assert response.get_json()["error"]


def test_longest_allowed_message_is_kept_whole(client):
    ticket = contact(client, message="я" * 5000)
    assert len(detail(client, ticket["reference"])["message"]) == 5000


# --- classification and SLA --------------------------------------------------------------------
@pytest.mark.parametrize("text,kind,expected", [
    ("Не работает ничего, ни одна страница не открывается", "contact", ("outage", "P1")),
    ("The whole app is down since 10:00", "contact", ("outage", "P1")),
    ("Нічого не працює!", "contact", ("outage", "P1")),
    ("All users get an error when paying", "contact", ("business_process", "P2")),
    ("Оплата не проходит у всех клиентов", "contact", ("business_process", "P2")),
    ("Сайт работает очень медленно", "contact", ("performance_security", "P2")),
    ("Кажется, наш аккаунт взломали", "contact", ("performance_security", "P2")),
    ("Сторінка завантажується повільно", "contact", ("performance_security", "P2")),
    ("Possible security issue with sessions", "contact", ("performance_security", "P2")),
    ("How do I download an invoice?", "contact", ("how_to", "P3")),
    ("Спасибо", "contact", ("how_to", "P3")),
    ("download invoice", "gap", ("documentation_gap", "P4")),
    ("как скачать счёт", "gap", ("documentation_gap", "P4")),
    ("site is down", "gap", ("outage", "P1")),
])
def test_classification(app, text, kind, expected):
    with app.app_context():
        result = classify(text, kind)
    assert (result.request_class, result.priority) == expected


def test_phrases_match_whole_words_only(app):
    with app.app_context():
        assert classify("Where is the download button?", "contact").request_class == "how_to"
        assert classify("Ёлки, всё упало", "contact").matched == ["упало", "все упало"]


@pytest.mark.parametrize("message,priority,first,resolution", [
    ("Nothing works at all", "P1", dt.timedelta(minutes=15), dt.timedelta(hours=4)),
    ("Payments failing for all users", "P2", dt.timedelta(hours=1), dt.timedelta(hours=8)),
    ("How do I change my email?", "P3", dt.timedelta(hours=4), dt.timedelta(days=3)),
])
def test_contact_sla_due_times(client, message, priority, first, resolution):
    ticket = contact(client, message=message)
    created = parse(ticket["created_at"])
    assert ticket["priority"] == priority
    assert parse(ticket["sla_first_response_due"]) - created == first
    assert parse(ticket["sla_resolution_due"]) - created == resolution


def test_gap_sla_due_times(app, client):
    search(client, "s", "ошибка 809 vpn")
    ticket = client.get("/api/v1/tickets?kind=gap", headers=STAFF).get_json()["tickets"][0]
    created = parse(ticket["created_at"])
    assert ticket["sla_first_response_due"] is None          # no user waits for a reply
    assert parse(ticket["sla_resolution_due"]) - created == dt.timedelta(days=10)


def test_classes_and_sla_are_configurable(app, client):
    app.config["TICKET_CLASSES"] = [
        {"name": "billing", "priority": "P2", "keywords": {"en": ["invoice*"]}},
        {"name": "other", "priority": "P4", "keywords": {}},
    ]
    app.config["SLA"] = {"P2": {"first_response": 30, "resolution": "2d"}}
    ticket = contact(client, message="My invoices are wrong")
    created = parse(ticket["created_at"])
    assert (ticket["request_class"], ticket["priority"]) == ("billing", "P2")
    assert parse(ticket["sla_first_response_due"]) - created == dt.timedelta(minutes=30)
    assert parse(ticket["sla_resolution_due"]) - created == dt.timedelta(days=2)
    assert contact(client, message="hello")["request_class"] == "other"


def test_durations():
    assert parse_duration("15m") == dt.timedelta(minutes=15)
    assert parse_duration("1.5h") == dt.timedelta(minutes=90)
    assert parse_duration(45) == dt.timedelta(minutes=45)
    with pytest.raises(ValueError):
        parse_duration("soon")
    assert classify_module.Text("нас взломали").has("взлом*", "ru")


# --- staff API ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/v1/tickets", "/api/v1/tickets/LZ-000001"])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": "test-token"},
                                     {"Authorization": "Basic test-token"},
                                     {"Authorization": "Bearer test-token-and-more"}])
def test_staff_api_needs_the_token(client, path, headers):
    contact(client)
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["status"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_staff_listing_filters_and_pages(client):
    contact(client, message="Nothing works at all")
    contact(client, message="How do I change my email?")
    search(client, "s9", "ошибка 809 vpn")
    listing = client.get("/api/v1/tickets", headers=STAFF).get_json()
    assert listing["total"] == 3 and len(listing["tickets"]) == 3
    by = lambda query: [t["priority"] for t in  # noqa: E731
                        client.get(f"/api/v1/tickets?{query}", headers=STAFF).get_json()["tickets"]]
    assert by("kind=contact&priority=P1") == ["P1"]
    assert by("kind=gap") == ["P4"]
    assert by("status=new&line=1&per_page=2&page=2") == [listing["tickets"][2]["priority"]]
    assert by("line=2") == []
    assert "context" not in listing["tickets"][0]


@pytest.mark.parametrize("query", ["kind=bug", "status=done", "line=7", "priority=P9",
                                   "per_page=0", "page=x"])
def test_staff_listing_rejects_bad_filters(client, query):
    response = client.get(f"/api/v1/tickets?{query}", headers=STAFF)
    assert response.status_code == 400 and response.get_json()["error"]


def test_unknown_ticket_is_404(client):
    response = client.get("/api/v1/tickets/LZ-999999", headers=STAFF)
    assert response.status_code == 404 and response.get_json()["status"] == 404


def test_reference_lookup_ignores_case(client):
    reference = contact(client)["reference"]
    assert detail(client, reference.lower())["reference"] == reference


@pytest.mark.parametrize("message, page_language, expected", [
    ("Не можу увійти до свого облікового запису, пише помилку", "ru", "uk"),   # the message's
    ("Не могу войти в свой аккаунт, пишет ошибку", "uk", "ru"),
    ("Не могу войти в свой аккаунт", "ru", "ru"),
    ("I cannot sign in to my account", "ru", "en"),
    ("Я не можу увійти", "en", "uk"),
    ("VPN?", "ru", "ru"),                          # too few words to overrule the page
    ("пароль", "uk", "uk"),                         # both dictionaries know it: the page's
])
def test_a_contact_ticket_speaks_the_messages_language(client, message, page_language, expected):
    assert contact(client, message=message, language=page_language)["language"] == expected
