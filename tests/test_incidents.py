"""Outages noticed within minutes: a burst of alike contacts and failed searches opens one
incident (frozen clock), linked tickets keep their class, resolving answers everyone, notices;
class corrections and suggestion accuracy; subjects summarising the message."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest
import time_machine

from kb_server import create_app
from kb_server.extensions import db
from kb_server.models import ClassCorrection, Ticket, TicketMessage
from kb_server.tickets import corrections
from kb_server.tickets.incidents import alike, topic
from kb_server.tickets.service import contact_subject
from conftest import app_config
from staff_helpers import add_staff, bearer, login
from tickets_helpers import post

T0 = dt.datetime(2026, 12, 2, 9, 0)
ROLES = {"agent1": ("l1@example.com", "agent", 1), "editor": ("editor@example.com", "editor", None),
         "analyst": ("analyst@example.com", "analyst", None)}


@pytest.fixture(scope="module")
def staff_tokens(tmp_path_factory, template):
    """A database with an agent of line 1, an editor and an analyst (hashing is slow: once)."""
    root = tmp_path_factory.mktemp("incident-staff")
    shutil.copy2(template / "test.db", root / "test.db")
    app = create_app(app_config(root))
    with app.app_context():
        tokens = {key: add_staff(email, role, line) for key, (email, role, line) in ROLES.items()}
    return root / "test.db", {**tokens, "admin": "test-token"}


@pytest.fixture
def app(tmp_path, template, staff_tokens):
    shutil.copytree(template / "index", tmp_path / "index")
    shutil.copy2(staff_tokens[0], tmp_path / "test.db")
    app = create_app(app_config(tmp_path, INCIDENT_REPORTS=3, INCIDENT_WINDOW_MINUTES=10))
    app.tokens = staff_tokens[1]
    return app


def at(minutes: float):
    return time_machine.travel(T0 + dt.timedelta(minutes=minutes), tick=False)


def contact(client, session: str, message: str, minutes: float, language: str = "en", email="u@example.com"):
    with at(minutes):
        response = post(client, "contact", {"session_id": session, "email": email, "name": "U",
                                            "message": message, "language": language})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["ticket"]


def failed_search(client, session: str, query: str, minutes: float):
    with at(minutes):
        response = post(client, "events", {"session_id": session, "kind": "search", "query": query,
                                           "result_count": 0, "result_ids": []})
    assert response.status_code == 201


def tickets(app, kind: str) -> list[Ticket]:
    with app.app_context():
        rows = db.session.scalars(db.select(Ticket).filter_by(kind=kind).order_by(Ticket.id)).all()
        db.session.expunge_all()
        return rows


def sessions_by_incident(app) -> dict[int, list[str]]:
    """The contact tickets' sessions, grouped by the incident each is linked to."""
    grouped: dict[int, list[str]] = {}
    for ticket in tickets(app, "contact"):
        grouped.setdefault(ticket.incident_id, []).append(ticket.session_id)
    return grouped


def act(client, reference: str, action: str, token: str = "test-token", **body):
    return client.post(f"/api/v1/tickets/{reference}/{action}", headers=bearer(token), json=body)


def open_incident(client) -> str:
    contact(client, "s1", "Orbita лежит, ничего не открывается", 0, "ru")
    contact(client, "s2", "I get 502 bad gateway on every page", 2)
    failed_search(client, "s3", "error 503", 4)
    return client.get("/api/v1/tickets?kind=incident", headers=bearer("test-token")).get_json()["tickets"][0]["reference"]


# --- grouping ----------------------------------------------------------------------------------
def test_a_burst_of_outage_reports_opens_one_incident_that_grows(app, client):
    contact(client, "s1", "Orbita лежит, ничего не открывается", 0, "ru")
    contact(client, "s2", "I get 502 bad gateway on every page", 2)
    assert tickets(app, "incident") == []                  # two reports: not yet
    failed_search(client, "s3", "error 503", 4)
    [incident] = tickets(app, "incident")
    assert (incident.priority, incident.line, incident.flagged_line) == ("P1", 1, 2)
    assert incident.request_class == "outage" and incident.reports == 3
    assert incident.subject.startswith("Possible outage: 3 reports")
    contact(client, "s4", "site is down for everyone", 6)
    contact(client, "s5", "How do I export contacts?", 7)    # not an outage: not a report
    [incident] = tickets(app, "incident")
    assert incident.reports == 4 and incident.subject.startswith("Possible outage: 4 reports")
    contacts = tickets(app, "contact")
    linked = [t for t in contacts if t.incident_id == incident.id]
    assert len(linked) == 3 and all(t.request_class == "outage" for t in linked)   # own class kept
    assert [t.request_class for t in contacts if t.incident_id is None] == ["how_to"]


def test_who_is_affected_is_no_topic(app, client):
    """"у всей команды", "у всіх колег" say how many are affected (the class's ``people`` and
    ``scope`` phrases), not what is broken: four reports of one sign-in outage in three
    languages (the new-user trial's) open an incident without the embedder."""
    with app.app_context():
        assert topic("Орбита лежит, при входе ошибка 502 у всей команды.", "outage", "ru") == frozenset()
        assert topic("Орбіта не працює, при вході помилка 502 у всіх колег.", "outage", "uk") == frozenset()
    contact(client, "t1", "Orbita is down for everyone in our team, the login page gives 502 errors.", 0)
    contact(client, "t2", "Орбіта не працює, при вході помилка 502 у всіх колег.", 1, "uk")
    contact(client, "t3", "Орбита лежит, при входе ошибка 502 у всей команды.", 2, "ru")
    contact(client, "t4", "Login is broken, 502 bad gateway, nobody in the office can get in.", 3)
    [incident] = tickets(app, "incident")
    assert incident.reports == 4


def test_reports_spread_beyond_the_window_open_no_incident(app, client):
    for minutes, session in ((0, "a"), (11, "b"), (22, "c")):
        contact(client, session, "the app is down", minutes)
    assert tickets(app, "incident") == []


def test_one_user_repeating_himself_is_one_report(app, client):
    for minutes in (0, 1, 2, 3):
        contact(client, "same", "the app is down", minutes)
    assert tickets(app, "incident") == []


def test_thresholds_are_settings(app, client):
    app.config["INCIDENT_REPORTS"] = 2
    contact(client, "a", "everything is down", 0)
    contact(client, "b", "сайт лежит", 1, "ru")
    assert len(tickets(app, "incident")) == 1


def test_alike_reports_group_into_concurrent_incidents(app, client):
    contact(client, "a1", "login gives 502 for everyone", 0)
    contact(client, "b1", "payments fail with 502", 1)
    contact(client, "a2", "nobody can log in, the login page says 502", 2)
    contact(client, "b2", "checkout payments fail with error 500", 3)
    assert tickets(app, "incident") == []                  # two and two: not yet
    contact(client, "a3", "the login screen: 503 service unavailable", 4)
    [login] = tickets(app, "incident")
    assert login.reports == 3 and "login" in login.subject
    contact(client, "b3", "payments: error 500 again", 5)
    with app.app_context():
        assert topic("payments: error 500 again", "outage", "en") == {"payment"}
        assert alike(topic("payments: error 500 again", "outage", "en"), topic("login gives 502", "outage", "en")) == 0
    login, payments = tickets(app, "incident")
    assert (login.reports, payments.reports) == (3, 3) and "payments fail with 502" in payments.subject
    assert payments.priority == "P1" and payments.request_class == "outage"
    contact(client, "c1", "сайт лежит", 6, "ru")           # names nothing: joins the newest
    contact(client, "a4", "login page: bad gateway", 7)
    login, payments = tickets(app, "incident")
    assert (login.reports, payments.reports) == (4, 4)
    assert sessions_by_incident(app) == {login.id: ["a1", "a2", "a3", "a4"], payments.id: ["b1", "b2", "b3", "c1"]}


def test_similarity_zero_puts_every_report_in_one_incident(app, client):
    app.config["INCIDENT_SIMILARITY"] = 0.0
    for minutes, (session, text) in enumerate([("a", "login gives 502 for everyone"), ("b", "payments give 502"),
                                               ("c", "the export page: 503")]):
        contact(client, session, text, minutes)
    [incident] = tickets(app, "incident")
    assert incident.reports == 3


def test_other_classes_open_incidents_when_configured(app, client):
    slow = [("a", "the invoice list is very slow today"), ("b", "invoice list so slow, 30 seconds per click"),
            ("c", "the invoice list takes ages to load, very laggy")]
    for minutes, (session, text) in enumerate(slow):
        contact(client, session, text, minutes)
    assert tickets(app, "incident") == []                  # only outage by default
    app.config["INCIDENT_CLASSES"] = ["outage", "performance_security"]
    for minutes, (session, text) in enumerate(slow, start=5):
        contact(client, session + "2", text, minutes)
    [incident] = tickets(app, "incident")
    assert (incident.request_class, incident.priority, incident.reports) == ("performance_security", "P2", 3)
    assert incident.subject.startswith("Incident (performance_security): 3 reports")
    assert [t.request_class for t in tickets(app, "contact") if t.incident_id == incident.id] \
        == ["performance_security"] * 3


# --- resolving and notices ---------------------------------------------------------------------
def test_resolving_the_incident_resolves_linked_tickets_and_answers_their_users(app, client):
    reference = open_incident(client)
    response = act(client, reference, "resolve-incident", body="Fixed: sign-in works again.")
    assert response.status_code == 200, response.get_json()
    assert "2 users answered" in response.get_json()["outcome"]
    assert {t.status for t in tickets(app, "incident")} == {"resolved"}
    contacts = tickets(app, "contact")
    assert [t.status for t in contacts] == ["resolved", "resolved"]
    with app.app_context():
        replies = db.session.scalars(db.select(TicketMessage).filter_by(kind="reply")).all()
        assert sorted(m.ticket_id for m in replies) == sorted(t.id for t in contacts)
        assert {m.body for m in replies} == {"Fixed: sign-in works again."}
    assert act(client, reference, "resolve-incident", body="again").status_code == 409


def test_a_notice_is_shown_in_the_users_language_while_active(app, client):
    reference = open_incident(client)
    assert client.get("/api/v1/notices").get_json()["notices"] == []
    response = act(client, reference, "notice", texts={"en": "We know sign-in is failing; fix by 14:00",
                                                       "ru": "Мы знаем, что вход не работает; исправим к 14:00"})
    assert response.status_code == 200, response.get_json()
    assert [n["text"] for n in client.get("/api/v1/notices?lang=ru").get_json()["notices"]] == \
        ["Мы знаем, что вход не работает; исправим к 14:00"]
    assert client.get("/api/v1/notices?lang=uk").get_json()["notices"][0]["text"].startswith("We know")
    page = client.get("/?lang=ru").get_data(as_text=True)
    assert "Мы знаем, что вход не работает" in page
    assert act(client, reference, "end-notice").get_json()["outcome"] == "notice ended"
    assert client.get("/api/v1/notices").get_json()["notices"] == []
    assert "Мы знаем" not in client.get("/?lang=ru").get_data(as_text=True)


def test_resolving_the_incident_ends_its_notice(app, client):
    reference = open_incident(client)
    act(client, reference, "notice", text_en="Sign-in is failing")
    act(client, reference, "resolve-incident", body="fixed")
    assert client.get("/api/v1/notices").get_json()["notices"] == []


@pytest.mark.parametrize("body,status", [({}, 400), ({"text_en": "x" * 301}, 400),
                                         ({"texts": {"en": 5}}, 400)])
def test_bad_notices_are_refused(app, client, body, status):
    reference = open_incident(client)
    assert act(client, reference, "notice", **body).status_code == status


@pytest.mark.parametrize("action,body", [("notice", {"text_en": "down"}),
                                         ("resolve-incident", {"body": "fixed"})])
def test_incident_actions_check_the_role_and_the_ticket(app, client, action, body):
    reference = open_incident(client)
    for role, expected in (("editor", 403), ("analyst", 403)):
        assert act(client, reference, action, app.tokens[role], **body).status_code == expected
    assert client.post(f"/api/v1/tickets/{reference}/{action}", json=body).status_code == 401
    contact_ref = tickets(app, "contact")[0].reference
    assert act(client, contact_ref, action, **body).status_code == 409       # not an incident
    assert act(client, reference, action, app.tokens["agent1"], **body).status_code == 200


def test_the_console_shows_the_incident_and_the_suggestion(app, client):
    reference = open_incident(client)
    with app.app_context():
        add_staff("console@example.com", "admin")
    login(client, "console@example.com")
    page = client.get(f"/console/t/{reference}").get_data(as_text=True)
    assert "data-incident-card" in page and "3 reports" in page.replace("·", "")
    contact_ref = tickets(app, "contact")[1].reference
    page = client.get(f"/console/t/{contact_ref}").get_data(as_text=True)
    assert "data-suggestion" in page and "rule: &#34;502&#34;" in page and "100%" in page
    assert f">{reference}</a>" in page
    page = client.get(f"/console/t/{reference}?lang=uk").get_data(as_text=True)   # generated: localized
    assert "Можливий збій: 3 звернення («Orbita лежит, ничего не открывается»)" in page
    assert "3 звернення, схожих, у вікні інциденту (Збій)" in page


def test_resolving_answers_each_user_in_their_tickets_language(app, client):
    reference = open_incident(client)                      # a ru and an en contact with e-mail
    response = act(client, reference, "resolve-incident", body_en="Fixed.")
    assert response.status_code == 400 and "ru" in response.get_json()["error"]   # ru text missing
    response = act(client, reference, "resolve-incident",
                   bodies={"en": "Fixed: sign-in works again.", "ru": "Исправлено: вход снова работает."})
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        replies = {db.session.get(Ticket, m.ticket_id).language: m.body
                   for m in db.session.scalars(db.select(TicketMessage).filter_by(kind="reply"))}
    assert replies == {"en": "Fixed: sign-in works again.", "ru": "Исправлено: вход снова работает."}


def test_the_console_resolve_form_has_a_text_per_language_prefilled_from_the_notice(app, client):
    reference = open_incident(client)
    act(client, reference, "notice", text_ru="Вход не работает", text_en="Sign-in is failing")
    with app.app_context():
        add_staff("console@example.com", "admin")
    login(client, "console@example.com")
    page = client.get(f"/console/t/{reference}?lang=ru").get_data(as_text=True)
    assert 'name="body_ru"' in page and 'name="body_en"' in page and 'name="body_uk"' not in page
    assert ">Вход не работает</textarea>" in page and ">Sign-in is failing</textarea>" in page
    response = client.post(f"/console/t/{reference}/resolve-incident?lang=ru",
                           data={"body_ru": "Исправлено", "body_en": "Fixed"})
    assert response.status_code == 302
    with app.app_context():
        assert {m.body for m in db.session.scalars(db.select(TicketMessage).filter_by(kind="reply"))} \
            == {"Исправлено", "Fixed"}


# --- corrections -------------------------------------------------------------------------------
def test_a_class_correction_is_recorded_and_counted(app, client):
    first = contact(client, "a", "How do I export contacts?", 0)
    second = contact(client, "b", "Where is the invoice template?", 1)
    contact(client, "c", "the reports page is slow", 2)
    with app.app_context():
        assert corrections.suggestion_accuracy() == {"suggested": 3, "corrected": 0, "accuracy": 1.0}
    assert act(client, first["reference"], "classify", request_class="documentation_gap").status_code == 200
    assert act(client, second["reference"], "classify", priority="P2").status_code == 200   # class kept
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ClassCorrection.id))) == 1
        assert corrections.suggestion_accuracy() == {"suggested": 3, "corrected": 1, "accuracy": 0.6667}
        assert corrections.examples() == [{"text": "How do I export contacts?", "label": "documentation_gap",
                                           "language": "en", "suggested": "how_to"}]
        assert corrections.suggestion_accuracy(since=T0 + dt.timedelta(minutes=1))["corrected"] == 0


# --- subjects ----------------------------------------------------------------------------------
@pytest.mark.parametrize("query,message,subject", [
    ("invoice xml", "Where do I find my invoices? I looked everywhere.", "Where do I find my invoices?"),
    ("", "Добрый день!\nПриложение не открывается ни у кого. Что делать?",
     "Приложение не открывается ни у кого."),
    ("", "Hi,\n\nnobody can log in", "nobody can log in"),
    ("vpn", "", "vpn"),
    ("", "abcd " * 40, "abcd " * 14 + "abcd…"),      # cut at a word, within 80 characters
])
def test_the_subject_summarises_the_message(query, message, subject):
    assert contact_subject(query, message) == subject


def test_erasing_a_person_erases_their_words_in_reports_and_corrections(app, client):
    from kb_server import privacy
    from kb_server.models import IncidentReport
    mine = contact(client, "mine", "Orbita is down, I am Anna from Acme", 0, email="anna@example.com")
    failed_search(client, "mine", "error 503 acme", 1)
    act(client, mine["reference"], "classify", request_class="how_to")
    with app.app_context():
        privacy.erase_person("anna@example.com")
        texts = db.session.scalars(db.select(IncidentReport.text)).all() + \
            db.session.scalars(db.select(ClassCorrection.text)).all()
        assert texts and set(texts) == {privacy.ERASED}
        assert set(db.session.scalars(db.select(IncidentReport.session_id))) == {""}


def test_with_the_embedder_reports_group_by_meaning_across_languages(app, client, e5_embedder, monkeypatch):
    """Real e5 (the session's embedder; the app itself stays keyword-only): Russian, English and
    Ukrainian reports of one sign-in outage share an incident, payments stay apart."""
    from indexer.embeddings import QueryCache
    from kb_server.tickets import incidents
    monkeypatch.setattr(incidents, "encoder", lambda: QueryCache(e5_embedder))
    contact(client, "a1", "никто не может войти, логин не работает у всех", 0, "ru")
    contact(client, "b1", "payments give 502 for everyone", 1)
    contact(client, "a2", "login is broken for everyone", 2)
    contact(client, "b2", "checkout payments fail with error 500", 3)
    contact(client, "a3", "у всіх не працює логін, ніхто не може увійти", 4, "uk")
    [login] = tickets(app, "incident")
    assert login.reports == 3
    contact(client, "b3", "payments: error 500 again", 5)
    login, payments = tickets(app, "incident")
    assert (login.reports, payments.reports) == (3, 3)
    assert sessions_by_incident(app) == {login.id: ["a1", "a2", "a3"], payments.id: ["b1", "b2", "b3"]}


def test_without_the_embedder_other_languages_words_differ(app, client):
    """Keyword-only: the same reports open no incident (their topic words differ)."""
    contact(client, "a1", "никто не может войти, логин не работает у всех", 0, "ru")
    contact(client, "a2", "login is broken for everyone", 2)
    contact(client, "a3", "у всіх не працює логін, ніхто не може увійти", 4, "uk")
    assert tickets(app, "incident") == []
