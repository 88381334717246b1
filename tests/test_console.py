"""The staff console and the staff API: queue views, filters, counts and search; the ticket
page; every ticket action; and the role matrix (each role refused what it may not do, in the
console's HTML and in the JSON API)."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from kb_server import create_app
from kb_server.extensions import db
from kb_server.mail import conversation
from kb_server.mail.inbound import InboundReply
from kb_server.models import AuditEntry, Macro, Ticket, TicketSignal, utcnow
from kb_server.tickets import sla, sla_watch
from conftest import app_config
from staff_helpers import STAFF_ADMIN, add_staff, bearer, login
from tickets_helpers import STAFF, post, search

STAFF_USERS = {  # key: (email, role, line)
    "agent1": ("l1@example.com", "agent", 1), "agent2": ("l2@example.com", "agent", 2),
    "editor": ("editor@example.com", "editor", None), "analyst": ("analyst@example.com", "analyst", None),
}


@pytest.fixture(scope="module")
def staff_app(tmp_path_factory, template):
    """One app for the module (accounts are slow to hash), with an agent of line 1 and 2,
    an editor and an analyst; ``app.tokens[key]`` are their API tokens."""
    root = tmp_path_factory.mktemp("console")
    shutil.copytree(template / "index", root / "index")
    shutil.copytree(template / "articles", root / "articles")
    shutil.copy2(template / "test.db", root / "test.db")
    app = create_app(app_config(root))
    with app.app_context():
        app.tokens = {key: add_staff(email, role, line) for key, (email, role, line) in STAFF_USERS.items()}
    app.tokens["admin"] = "test-token"
    return app


@pytest.fixture
def api(staff_app):
    return staff_app.test_client()


def console(app, key: str, fresh: bool = False):
    """A test client logged in to the console as ``key`` (or the admin); one per role and
    module unless ``fresh`` (checking a password costs a scrypt hash)."""
    clients = app.extensions.setdefault("test_console_clients", {})
    if key in clients and not fresh:
        return clients[key]
    client = app.test_client()
    email = STAFF_ADMIN if key == "admin" else STAFF_USERS[key][0]
    assert login(client, email).status_code == 302
    if not fresh:
        clients[key] = client
    return client


def new_ticket(client, message: str = "How do I download my invoice?", **fields) -> str:
    body = {"session_id": fields.pop("session_id", re.sub(r"\W", "_", "s-" + message[:20])), "email": "user@example.com",
            "name": "Olga", "message": message, "language": "en", **fields}
    response = post(client, "contact", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["ticket"]["reference"]


def change(app, reference: str, **fields) -> None:
    with app.app_context():
        ticket = db.session.scalar(db.select(Ticket).filter_by(reference=reference))
        for name, value in fields.items():
            setattr(ticket, name, value)
        db.session.commit()


def ticket_json(client, reference: str, token: str = "test-token") -> dict:
    response = client.get(f"/api/v1/tickets/{reference}", headers=bearer(token))
    assert response.status_code == 200
    return response.get_json()["ticket"]


def act(client, reference: str, action: str, token: str = "test-token", **body):
    return client.post(f"/api/v1/tickets/{reference}/{action}", headers=bearer(token), json=body)


# --- role matrix -------------------------------------------------------------------------------
ROLES = ("anonymous", "admin", "agent1", "agent2", "editor", "analyst")
# what each role gets: request -> {role: status}; "ok" is 200 for GET, 302 for console POSTs
HTML_MATRIX = [
    ("GET", "/console/", {"anonymous": 302, "admin": 200, "agent1": 200, "agent2": 200, "editor": 200, "analyst": 200}),
    ("GET", "/console/t/{line1}", {"anonymous": 302, "admin": 200, "agent1": 200, "agent2": 200, "editor": 200, "analyst": 200}),
    ("POST", "/console/t/{line1}/note", {"anonymous": 302, "admin": 302, "agent1": 302, "agent2": 302, "editor": 403, "analyst": 403}),
    ("POST", "/console/t/{line2}/note", {"anonymous": 302, "admin": 302, "agent1": 403, "agent2": 302, "editor": 403, "analyst": 403}),
    ("POST", "/console/t/{line2}/take", {"anonymous": 302, "admin": 302, "agent1": 403, "agent2": 302, "editor": 403, "analyst": 403}),
    ("GET", "/console/users", {"anonymous": 302, "admin": 200, "agent1": 403, "agent2": 403, "editor": 403, "analyst": 403}),
    ("POST", "/console/users", {"anonymous": 302, "admin": 302, "agent1": 403, "agent2": 403, "editor": 403, "analyst": 403}),
    ("GET", "/console/macros", {"anonymous": 302, "admin": 200, "agent1": 403, "agent2": 403, "editor": 403, "analyst": 403}),
    ("POST", "/console/macros", {"anonymous": 302, "admin": 302, "agent1": 403, "agent2": 403, "editor": 403, "analyst": 403}),
    ("GET", "/console/account", {"anonymous": 302, "admin": 200, "agent1": 200, "agent2": 200, "editor": 200, "analyst": 200}),
]
JSON_MATRIX = [
    ("GET", "/api/v1/tickets", {"anonymous": 401, "admin": 200, "agent1": 200, "agent2": 200, "editor": 200, "analyst": 200}),
    ("GET", "/api/v1/tickets/{line1}", {"anonymous": 401, "admin": 200, "agent1": 200, "agent2": 200, "editor": 200, "analyst": 200}),
    ("POST", "/api/v1/tickets/{line1}/note", {"anonymous": 401, "admin": 200, "agent1": 200, "agent2": 200, "editor": 403, "analyst": 403}),
    ("POST", "/api/v1/tickets/{line2}/note", {"anonymous": 401, "admin": 200, "agent1": 403, "agent2": 200, "editor": 403, "analyst": 403}),
    ("POST", "/api/v1/tickets/{line2}/classify", {"anonymous": 401, "admin": 200, "agent1": 403, "agent2": 200, "editor": 403, "analyst": 403}),
    ("GET", "/api/v1/users", {"anonymous": 401, "admin": 200, "agent1": 403, "agent2": 403, "editor": 403, "analyst": 403}),
    ("POST", "/api/v1/macros", {"anonymous": 401, "admin": 201, "agent1": 403, "agent2": 403, "editor": 403, "analyst": 403}),
    ("GET", "/api/v1/me", {"anonymous": 401, "admin": 200, "agent1": 200, "agent2": 200, "editor": 200, "analyst": 200}),
]


@pytest.fixture(scope="module")
def matrix_tickets(staff_app):
    client = staff_app.test_client()
    line1, line2 = new_ticket(client, "matrix one"), new_ticket(client, "matrix two")
    change(staff_app, line2, line=2)
    return {"line1": line1, "line2": line2}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path, expected", HTML_MATRIX,
                         ids=[f"{m} {p}" for m, p, _ in HTML_MATRIX])
def test_console_role_matrix(staff_app, matrix_tickets, role, method, path, expected):
    client = staff_app.test_client() if role == "anonymous" else console(staff_app, role)
    data = {"body": "a note", "name": f"macro {role}", "email": f"new-{role}@example.com",
            "role": "analyst", "password": "long enough password"}
    url = path.format(**matrix_tickets)
    response = client.get(url) if method == "GET" else client.post(url, data=data)
    assert response.status_code == expected[role], response.get_data(as_text=True)[:300]
    if role == "anonymous":
        assert "/console/login" in response.headers["Location"]
    if expected[role] == 403:
        assert "You do not have access" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path, expected", JSON_MATRIX,
                         ids=[f"{m} {p}" for m, p, _ in JSON_MATRIX])
def test_api_role_matrix(staff_app, api, matrix_tickets, role, method, path, expected):
    headers = {} if role == "anonymous" else bearer(staff_app.tokens[role])
    url = path.format(**matrix_tickets)
    body = {"body": "a note", "name": f"api macro {role}", "request_class": "how_to", "priority": "P3"}
    response = api.get(url, headers=headers) if method == "GET" else api.post(url, headers=headers, json=body)
    assert response.status_code == expected[role], response.get_json()
    if expected[role] >= 400:
        assert response.get_json()["status"] == expected[role]


def test_the_sign_in_page_says_how_to_create_the_first_account(app, staff_app):
    from kb_server.models.staff import User
    with app.app_context():                                          # a fresh instance
        db.session.query(User).delete()
        db.session.commit()
    fresh = app.test_client().get("/console/login").get_data(as_text=True)
    assert "No staff account exists yet" in fresh and "kb user add you@example.com --role admin" in fresh
    assert "No staff account" not in staff_app.test_client().get("/console/login").get_data(as_text=True)


def test_api_refuses_the_console_session_cookie(staff_app):
    client = console(staff_app, "admin", fresh=True)
    assert client.get("/api/v1/tickets").status_code == 401


# --- queue -------------------------------------------------------------------------------------
def test_queue_views_counts_and_filters(staff_app, api):
    a = new_ticket(api, "Nothing works at all, outage", session_id="q1")          # P1 outage
    b = new_ticket(api, "How do I change my e-mail?", session_id="q2")          # P3 how-to
    c = new_ticket(api, "Payment failed for all users", session_id="q3")        # P2
    search(api, "q4", "frobnicate the quantum widget")                            # a gap ticket
    change(staff_app, b, line=2)
    act(api, c, "take", staff_app.tokens["agent1"])
    agent1 = bearer(staff_app.tokens["agent1"])

    def refs(query: str, headers=STAFF) -> list[str]:
        response = api.get(f"/api/v1/tickets?{query}&per_page=100", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [t["reference"] for t in response.get_json()["tickets"]]

    assert c in refs("view=mine", agent1) and a not in refs("view=mine", agent1)
    line = refs("view=line", agent1)
    assert a in line and b not in line and c not in line         # line 1, unassigned
    assert {a, b, c} <= set(refs("view=open"))
    gaps = refs("view=gaps")
    assert gaps and not {a, b, c} & set(gaps)
    assert a in refs("class=outage") and b not in refs("class=outage")
    assert refs("priority=P1&q=outage") == [a]
    assert refs("line=2&q=change") == [b]
    d = new_ticket(api, "Оплата не проходит, ошибка 50%_x", session_id="q5")
    assert refs("q=ОПЛАТА") == [d] and refs("q=50%25_x") == [d] and refs("q=5_%25") == []
    e = new_ticket(api, "Платёж не прошёл, и я не помню пароля от кабинета", session_id="q6")
    assert refs("q=платеж") == [e] and refs("q=пароль") == [e] and refs("q=платеж+пароль") == [e]
    assert refs("q=прошел+кабинет") == [e] and refs("q=платеж+ключ") == []   # every word, in any form
    assert c in refs("assignee=me", agent1) and c not in refs("assignee=none")
    quantum = refs("q=quantum")
    assert len(quantum) == 1 and quantum[0] in gaps
    counts = api.get("/api/v1/tickets/counts", headers=agent1).get_json()["counts"]
    assert counts["mine"] == len(refs("view=mine", agent1)) and counts["open"] >= 4
    html = console(staff_app, "agent1").get("/console/?view=open").get_data(as_text=True)
    assert f'data-view-count="mine">{counts["mine"]}<' in html
    assert all(ref in html for ref in (a, b, c))


def age(app, reference: str, share: float) -> None:
    """Make the ticket as old as ``share`` of its first-response target (on the default 24/7
    calendar) and store its SLA state as a ticket change does."""
    with app.app_context():
        ticket = db.session.scalar(db.select(Ticket).filter_by(reference=reference))
        target = sla.policy().duration(ticket.priority, ticket.request_class, "first_response")
        ticket.created_at = utcnow() - target * share
        sla_watch.store_state(ticket)
        db.session.commit()


def test_queue_sla_state_filter_and_sort_by_due(staff_app, api):
    late = new_ticket(api, "late ticket text", session_id="sla1")
    soon = new_ticket(api, "soon ticket text", session_id="sla2")
    fine = new_ticket(api, "fine ticket text", session_id="sla3")
    waiting = new_ticket(api, "waiting ticket text", session_id="sla4")
    for reference, share in ((late, 1.5), (soon, 0.9), (fine, 0.1), (waiting, 0.9)):
        age(staff_app, reference, share)
    assert act(api, waiting, "status", status="pending", pending_reason="user").status_code == 200
    listing = api.get("/api/v1/tickets?q=ticket+text&per_page=100", headers=STAFF).get_json()["tickets"]
    assert [t["reference"] for t in listing] == [late, soon, fine, waiting]   # by SLA due; paused last
    assert [t["sla_state"] for t in listing] == ["breached", "due_soon", "ok", "paused"]
    for state, ref in (("breached", late), ("due_soon", soon), ("ok", fine), ("paused", waiting)):
        found = api.get(f"/api/v1/tickets?q=ticket+text&sla={state}", headers=STAFF).get_json()["tickets"]
        assert [t["reference"] for t in found] == [ref]
    sla_view = [t["reference"] for t in api.get("/api/v1/tickets?view=sla&per_page=100",
                                                 headers=STAFF).get_json()["tickets"]]
    assert late in sla_view and soon in sla_view and fine not in sla_view and waiting not in sla_view
    html = console(staff_app, "agent1").get("/console/?view=sla&q=ticket+text").get_data(as_text=True)
    assert "sla-breached" in html and "overdue" in html
    # a stored due time that passed is breached before the next check stores it
    change(staff_app, fine, sla_next_due=utcnow() - dt.timedelta(minutes=1))
    found = api.get("/api/v1/tickets?q=ticket+text&sla=breached", headers=STAFF).get_json()["tickets"]
    assert {t["reference"] for t in found} == {late, fine}
    # the user's answer restarts the clock: state stored at once, by the reply itself
    with staff_app.app_context():
        conversation.deliver(InboundReply(reference=waiting, sender="anna@example.com",
                                          text="Here you are", via="link"))
    data = ticket_json(api, waiting)
    assert data["status"] == "open" and data["sla_state"] == "due_soon"
    act(api, late, "reply", body="We are on it")                 # first response given
    assert ticket_json(api, late)["sla_state"] == "ok"


@pytest.mark.parametrize("query", ["view=everything", "status=done", "class=nope", "priority=P9",
                                   "line=7", "sla=late", "sort=random", "assignee=bob",
                                   "per_page=0", "page=x", "q=" + "x" * 201])
def test_api_listing_rejects_bad_filters(api, query):
    response = api.get(f"/api/v1/tickets?{query}", headers=STAFF)
    assert response.status_code == 400 and response.get_json()["error"]


def test_console_queue_ignores_bad_filters_and_speaks_russian(staff_app):
    client = console(staff_app, "agent1", fresh=True)
    page = client.get("/console/?view=everything&status=done&lang=ru")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="ru">' in html and "Моя линия, без исполнителя" in html
    assert "Моя линия" in client.get("/console/").get_data(as_text=True)   # remembered


# --- ticket page -------------------------------------------------------------------------------
def test_ticket_page_shows_message_contact_session_suggestions(staff_app, api):
    search(api, "tp1", "reset password", ["en/reset-password"], page_url="https://app.example/login",
           language="en")
    post(api, "events", {"session_id": "tp1", "kind": "click", "article_id": "en/reset-password"})
    post(api, "feedback", {"session_id": "tp1", "article_id": "en/reset-password", "helpful": False,
                           "reason": "not_solved", "comment": "link expired"})
    ref = new_ticket(api, "The reset link says expired, how do I reset my password?", session_id="tp1")
    html = console(staff_app, "agent1").get(f"/console/t/{ref}").get_data(as_text=True)
    assert "The reset link says expired" in html and "user@example.com" in html and "Olga" in html
    assert "“reset password”" in html and "https://app.example/login" in html
    assert "Reset your password" in html                                   # title, not the id
    assert "link expired" in html and "TestBrowser" in html
    suggested = html.split('id="h-suggested"')[1].split("</section>")[0]
    assert "/a/en/reset-password" in suggested
    data = ticket_json(api, ref)
    assert data["suggested_articles"][0]["id"] == "en/reset-password"
    assert data["context"]["queries"][0]["query"] == "reset password"


def test_gap_ticket_page_shows_the_grouped_queries(staff_app, api):
    for session, query, language in (("g1", "qzxv printer wizard", "en"), ("g2", "qzxv printer wizard", "en"),
                                     ("g3", "qzxv printer wizards", "en")):
        search(api, session, query, language=language, page_url="https://app.example/print")
    gap = [t for t in api.get("/api/v1/tickets?view=gaps&q=qzxv", headers=STAFF).get_json()["tickets"]]
    assert len(gap) == 1
    html = console(staff_app, "agent1").get(f"/console/t/{gap[0]['reference']}").get_data(as_text=True)
    section = html.split('id="h-gap"')[1].split("</section>")[0]
    assert "qzxv printer wizard" in section and "https://app.example/print" in section
    assert re.search(r"<dd>3</dd>", section)                            # users
    assert "zero_results × 3" in section


def test_generated_subjects_and_the_suggestions_reason_speak_the_agents_language(staff_app, api):
    for session in ("gr1", "gr2"):
        search(api, session, "qzxw ledger scanner", language="en")
    gap = api.get("/api/v1/tickets?view=gaps&q=qzxw", headers=STAFF).get_json()["tickets"][0]
    assert gap["subject"] == '2 users searched "qzxw ledger scanner" and found nothing'   # stored
    ref = new_ticket(api, "Орбита лежит с утра", language="ru", session_id="gr-contact")
    ukrainian = console(staff_app, "agent1", fresh=True)
    queue = ukrainian.get("/console/?view=gaps&lang=uk").get_data(as_text=True)
    assert "Пошук «qzxw ledger scanner»: нічого не знайдено (2 користувачі)" in queue
    russian = console(staff_app, "agent2", fresh=True)
    page = russian.get(f"/console/t/{gap['reference']}?lang=ru").get_data(as_text=True)
    assert "Поиск «qzxw ledger scanner»: ничего не найдено (2 пользователя)" in page
    reason = russian.get(f"/console/t/{ref}").get_data(as_text=True).split("data-suggestion-reason>")[1]
    assert reason.startswith("правило: «лежит»")
    english = console(staff_app, "agent1").get(f"/console/t/{ref}").get_data(as_text=True)
    assert english.split("data-suggestion-reason>")[1].startswith("rule: &#34;лежит&#34;")


# --- actions -----------------------------------------------------------------------------------
def test_take_assign_and_status_lifecycle_are_audited(staff_app, api):
    ref = new_ticket(api, "lifecycle ticket")
    agent1, agent2 = staff_app.tokens["agent1"], staff_app.tokens["agent2"]
    assert act(api, ref, "take", agent1).get_json()["ticket"]["status"] == "open"
    assert ticket_json(api, ref)["assignee"] == "l1@example.com"
    assert act(api, ref, "assign", agent1, assignee="none").get_json()["ticket"]["assignee"] is None
    with staff_app.app_context():
        agent2_id = db.session.scalar(db.select(AuditEntry.entity_id).where(AuditEntry.entity == "user")
                                      .where(AuditEntry.after["email"].as_string() == "l2@example.com"))
    assert act(api, ref, "assign", agent1, assignee=agent2_id).status_code == 200
    assert act(api, ref, "assign", agent1, assignee="99999").status_code == 400
    assert act(api, ref, "status", agent1, status="pending").status_code == 400        # needs reason
    pending = act(api, ref, "status", agent1, status="pending", pending_reason="third_party").get_json()
    assert pending["ticket"]["status"] == "pending" and pending["ticket"]["pending_reason"] == "third_party"
    resolved = act(api, ref, "status", agent1, status="resolved").get_json()["ticket"]
    assert resolved["resolved_at"] and resolved["pending_reason"] == ""
    assert act(api, ref, "status", agent1, status="pending", pending_reason="user").status_code == 409
    assert act(api, ref, "status", agent1, status="closed").status_code == 200
    assert act(api, ref, "reopen", agent1).get_json()["ticket"]["status"] == "open"
    assert act(api, ref, "reopen", agent1).status_code == 409
    assert act(api, ref, "status", agent2, status="wat").status_code == 400
    history = ticket_json(api, ref)["history"]
    assert [h["action"] for h in history] == ["take", "assign", "assign", "status", "status",
                                              "status", "reopen"]
    assert history[0]["actor"] == "l1@example.com"
    assert history[0]["before"] == {"status": "new", "assignee_id": None}
    assert history[3]["after"]["pending_reason"] == "third_party"


def test_reply_is_written_to_the_outbox_and_counts_as_first_response(staff_app, api):
    ref = new_ticket(api, "reply ticket")
    client = console(staff_app, "agent1")
    response = client.post(f"/console/t/{ref}/reply", data={"body": "Here is how.", "status": "pending",
                                                            "pending_reason": "user"})
    assert response.status_code == 302
    data = ticket_json(api, ref)
    assert data["messages"][0]["kind"] == "reply" and data["messages"][0]["body"] == "Here is how."
    assert data["messages"][0]["delivery"] == "outbox" and data["first_response_at"]
    assert data["status"] == "pending" and data["pending_reason"] == "user"
    message_id = data["messages"][0]["data"]["message_id"]
    outbox = list(Path(staff_app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))
    assert any(message_id.strip("<>") in path.read_text() for path in outbox)
    html = client.get(f"/console/t/{ref}").get_data(as_text=True)
    assert "Here is how." in html and 'data-delivery="outbox"' in html
    assert "written to the outbox folder and NOT sent" in html
    assert act(api, ref, "reply", body="").status_code == 400
    resolved = act(api, ref, "reply", body="Solved.", status="resolved", rating=False).get_json()
    assert "rating_links" not in ticket_json(api, ref)["messages"][-1]["data"], resolved
    assert act(api, ref, "reply", body=["x"]).status_code == 400
    assert act(api, ref, "reply", body="x" * 20_001).status_code == 400


def test_a_gap_ticket_cannot_be_replied_to_but_takes_notes(staff_app, api):
    search(api, "gn1", "zzqx nonexistent feature")
    gap = api.get("/api/v1/tickets?view=gaps&q=zzqx", headers=STAFF).get_json()["tickets"][0]["reference"]
    assert act(api, gap, "reply", body="hi").status_code == 409
    note = act(api, gap, "note", body="Needs an article about zzqx")
    assert note.status_code == 200
    assert note.get_json()["ticket"]["messages"][-1]["kind"] == "note"
    assert act(api, gap, "note", body="  ").status_code == 400


def test_classify_changes_class_priority_and_sla(staff_app, api):
    ref = new_ticket(api, "how do I change my avatar")
    before = ticket_json(api, ref)
    after = act(api, ref, "classify", request_class="outage", priority="P1").get_json()["ticket"]
    assert (after["request_class"], after["priority"]) == ("outage", "P1")
    assert after["sla_resolution_due"] < before["sla_resolution_due"]
    assert act(api, ref, "classify", request_class="nope").status_code == 400
    assert act(api, ref, "classify", priority="P0").status_code == 400


def test_canned_answers_fill_placeholders(staff_app, api):
    created = api.post("/api/v1/macros", headers=STAFF,
                       json={"name": "Invoice help", "body": "Hi {name}, about {reference}: see Billing. {agent}, {unknown}"})
    assert created.status_code == 201
    macro_id = created.get_json()["macro"]["id"]
    assert api.post("/api/v1/macros", headers=STAFF, json={"name": "Invoice help", "body": "x"}).status_code == 400
    ref = new_ticket(api, "macro ticket")
    reply = act(api, ref, "reply", staff_app.tokens["agent1"], macro=macro_id).get_json()
    assert reply["ticket"]["messages"][-1]["body"] == f"Hi Olga, about {ref}: see Billing. L1, {{unknown}}"
    html = console(staff_app, "agent1").get(f"/console/t/{ref}").get_data(as_text=True)
    assert f'data-body="Hi Olga, about {ref}: see Billing. L1, {{unknown}}"' in html
    admin = console(staff_app, "admin")
    admin.post(f"/console/macros/{macro_id}", data={"name": "Invoice help", "body": "Changed {name}"})
    with staff_app.app_context():
        assert db.session.get(Macro, macro_id).body == "Changed {name}"
        audit = db.session.scalars(db.select(AuditEntry).filter_by(entity="setting",
                                                                   entity_id=f"macro:{macro_id}")).all()
        assert [e.action for e in audit] == ["create", "save"]
    admin.post(f"/console/macros/{macro_id}/delete")
    assert "Invoice help" not in admin.get("/console/macros").get_data(as_text=True)


def test_escalation_asks_for_the_missing_facts_and_line2_sees_why(staff_app, api):
    ref = new_ticket(api, "Nothing works at all since this morning")     # outage: facts required
    agent1, agent2 = staff_app.tokens["agent1"], staff_app.tokens["agent2"]
    assert act(api, ref, "escalate", agent1, facts={"affected_service": "web"}).status_code == 400  # reason
    refused = act(api, ref, "escalate", agent1, reason="Beyond line 1", facts={"affected_service": "web"})
    assert refused.status_code == 400
    assert refused.get_json()["missing_facts"] == ["since_when", "error_text"]
    assert ticket_json(api, ref)["line"] == 1
    client = console(staff_app, "agent1")
    page = client.post(f"/console/t/{ref}/escalate", data={"reason": "x", "line": "2"},
                       follow_redirects=True).get_data(as_text=True)
    assert "collect these facts before escalating: Affected service, Since when, Error text" in page
    client.post(f"/console/t/{ref}/facts", data={"fact_affected_service": "web app"})
    assert ticket_json(api, ref)["missing_facts"] == ["since_when", "error_text"]
    done = client.post(f"/console/t/{ref}/escalate", data={
        "reason": "Reproduced, needs logs", "line": "2", "fact_since_when": "09:00 UTC",
        "fact_error_text": "HTTP 502"})
    assert done.status_code == 302
    data = ticket_json(api, ref)
    assert data["line"] == 2 and data["facts"]["error_text"] == "HTTP 502" and data["assignee"] is None
    assert act(api, ref, "note", agent1, body="still mine?").status_code == 403     # line 1 now reads
    html = console(staff_app, "agent2").get(f"/console/t/{ref}").get_data(as_text=True)
    banner = html.split("data-escalation>")[1].split("</div>")[0]
    assert "Escalated from line 1 to line 2" in banner and "Reproduced, needs logs" in banner
    for reader in ("agent2", "analyst"):           # the facts line 1 collected, for whoever reads
        html = console(staff_app, reader).get(f"/console/t/{ref}").get_data(as_text=True)
        banner = html.split("data-escalation>")[1].split("data-escalation-facts>")[1].split("</dl>")[0]
        assert "Since when" in banner and "09:00 UTC" in banner and "HTTP 502" in banner
    assert ref in console(staff_app, "agent2").get("/console/?view=line").get_data(as_text=True)
    assert act(api, ref, "escalate", agent2, reason="vendor", line=4).status_code == 400   # party
    assert act(api, ref, "escalate", agent2, reason="down", line=1).status_code == 400
    back = act(api, ref, "deescalate", agent2, reason="Fixed config, line 1 can close")
    assert back.get_json()["ticket"]["line"] == 1
    assert act(api, ref, "deescalate", agent1, reason="lower?").status_code == 400


def test_line4_records_the_outside_party_and_its_reference(staff_app, api):
    ref = new_ticket(api, "How do I export to the vendor format?")       # how_to: no facts needed
    change(staff_app, ref, line=3)
    done = act(api, ref, "escalate", "test-token", reason="Vendor bug", line=4,
               outside_party="Acme Payments", outside_reference="ACME-4411")
    ticket = done.get_json()["ticket"]
    assert ticket["line"] == 4 and ticket["outside_party"] == "Acme Payments"
    assert ticket["messages"][-1]["data"] == {"from": 3, "to": 4, "reason": "Vendor bug",
                                              "outside_party": "Acme Payments",
                                              "outside_reference": "ACME-4411"}


def test_merge_moves_conversation_and_context_and_closes_the_duplicate(staff_app, api):
    original = new_ticket(api, "Invoice PDF is empty", session_id="m1")
    duplicate = new_ticket(api, "Invoice PDF empty again", session_id="m2")
    act(api, duplicate, "note", body="note on the duplicate")
    merged = act(api, duplicate, "merge", into=original.lower()).get_json()["ticket"]
    assert merged["status"] == "closed" and merged["merged_into"] == original
    target = ticket_json(api, original)
    assert [m["body"] for m in target["messages"]] == ["note on the duplicate",
                                                       f"{duplicate} merged into this ticket"]
    assert target["context"]["merged"][0]["reference"] == duplicate
    assert target["context"]["merged"][0]["message"] == "Invoice PDF empty again"
    assert act(api, duplicate, "note", body="x").status_code == 409
    assert act(api, original, "merge", into=original).status_code == 409
    assert act(api, original, "merge", into="LZ-999999").status_code == 404
    assert [h["action"] for h in target["history"]] == ["merge_in"]


def test_merging_gap_tickets_adds_their_signals(staff_app, api):
    search(api, "mg1", "wqpz login loop")
    search(api, "mg2", "vvkk blank dashboard")
    refs = {t["gap"]["query"]: t["reference"] for t in
            api.get("/api/v1/tickets?view=gaps&per_page=100", headers=STAFF).get_json()["tickets"]}
    source, target = refs["wqpz login loop"], refs["vvkk blank dashboard"]
    act(api, source, "merge", into=target)
    gap = ticket_json(api, target)["gap"]
    assert gap["users"] == 2 and set(gap["sample_queries"]) == {"wqpz login loop", "vvkk blank dashboard"}
    with staff_app.app_context():
        ticket_id = db.session.scalar(db.select(Ticket.id).filter_by(reference=target))
        assert db.session.scalar(db.select(db.func.count()).select_from(TicketSignal)
                                 .filter_by(ticket_id=ticket_id)) == 2


@pytest.mark.parametrize("action, body", [("nope", {}), ("reply", None)])
def test_unknown_actions_and_bad_bodies_are_4xx(api, action, body):
    ref = new_ticket(api, "bad body ticket")
    if body is None:
        response = api.post(f"/api/v1/tickets/{ref}/{action}", headers=STAFF, data="not json",
                            content_type="application/json")
        assert response.status_code == 400
    else:
        assert act(api, ref, action).status_code == 404
    assert api.post("/api/v1/tickets/LZ-999999/note", headers=STAFF, json={"body": "x"}).status_code == 404


# --- OpenAPI -----------------------------------------------------------------------------------
def test_openapi_document_matches_the_staff_routes(staff_app, api):
    document = api.get("/api/v1/openapi.json").get_json()
    described = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    routes = set()
    for rule in staff_app.url_map.iter_rules():
        if rule.endpoint.startswith(("tickets.", "analytics.", "articles_api.", "api.", "events.", "widget.widget_config")):
            path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)
            routes |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == routes
    action_enum = document["paths"]["/api/v1/tickets/{reference}/{action}"]["post"]["parameters"][1]["schema"]["enum"]
    assert "escalate" in action_enum and "merge" in action_enum


# --- privacy -----------------------------------------------------------------------------------
def test_erasing_a_person_erases_the_conversation_and_facts(staff_app, api):
    from kb_server.privacy import ERASED, erase_person
    ref = new_ticket(api, "Nothing works, my name is Zed Secretson", email="zed@example.com")
    act(api, ref, "reply", body="Hello Zed Secretson")
    act(api, ref, "facts", facts={"error_text": "Zed's account 4411 fails"})
    flagged = act(api, ref, "flag", article="en/download-invoices", reason="wrong",
                  comment="Zed Secretson followed step 3 and it failed")
    assert flagged.status_code == 200
    with staff_app.app_context():
        assert erase_person("zed@example.com")["tickets_erased"] == 1
    data = ticket_json(api, ref)
    assert data["messages"][0]["body"] == ERASED and data["facts"] == {}
    assert "Secretson" not in str(data) and "4411" not in str(data)


# --- every action through the console's forms ---------------------------------------------------
CONSOLE_ACTIONS = [  # action, form, expected flash, field checked afterwards
    ("take", {}, "taken", ("assignee", "l1@example.com")),
    ("note", {"body": "checked the logs"}, "note added", None),
    ("reply", {"body": "Try again now", "status": "resolved"}, "reply queued for the outbox (no SMTP server set)", ("status", "resolved")),
    ("classify", {"request_class": "outage", "priority": "P1"}, "classified", ("priority", "P1")),
    ("status", {"status": "pending", "pending_reason": "third_party"}, "status pending", ("pending_reason", "third_party")),
    ("facts", {"fact_product_version": "4.2"}, "facts saved", ("facts", {"product_version": "4.2"})),
    ("escalate", {"reason": "needs a developer", "line": "3"}, "escalated to line 3", ("line", 3)),
    ("merge", {"into": "{other}"}, "merged into {other}", ("status", "closed")),
]


@pytest.mark.parametrize("action, form, flash, check", CONSOLE_ACTIONS, ids=[a[0] for a in CONSOLE_ACTIONS])
def test_every_action_from_the_console(staff_app, api, action, form, flash, check):
    ref, other = new_ticket(api, f"How do I use {action}?"), new_ticket(api, f"How else {action}?")
    client = console(staff_app, "agent1")
    form = {key: value.format(other=other) for key, value in form.items()}
    response = client.post(f"/console/t/{ref}/{action}", data=form, follow_redirects=True)
    assert response.status_code == 200
    assert f'flash-success" role="status">{flash.format(other=other)}<' in response.get_data(as_text=True)
    if check:
        assert ticket_json(api, ref)[check[0]] == check[1]


def test_saving_no_facts_is_refused(staff_app, api):
    """"Save facts" with every field empty changed nothing: it says so instead of "facts saved"
    (and audits nothing)."""
    ref = new_ticket(api, "Nothing works at all, every page is down")
    refused = act(api, ref, "facts", facts={"error_text": "  "})
    assert refused.status_code == 400 and "at least one fact" in refused.get_json()["error"]
    page = console(staff_app, "agent1").post(f"/console/t/{ref}/facts", data={"fact_error_text": ""},
                                              follow_redirects=True).get_data(as_text=True)
    assert "at least one fact" in page and "recorded facts" not in page


def test_reopen_and_deescalate_from_the_console(staff_app, api):
    ref = new_ticket(api, "How do I reopen things?")
    act(api, ref, "status", status="resolved")
    change(staff_app, ref, line=2)
    client = console(staff_app, "agent2")
    assert "reopened" in client.post(f"/console/t/{ref}/reopen", follow_redirects=True).get_data(as_text=True)
    page = client.post(f"/console/t/{ref}/deescalate", data={"reason": "simple how-to", "line": "1"},
                       follow_redirects=True).get_data(as_text=True)
    assert "returned to line 1" in page and ticket_json(api, ref)["line"] == 1
    assert client.post(f"/console/t/{ref}/nonsense").status_code == 404
    assert client.get("/console/t/LZ-999999").status_code == 404


def test_huge_ids_are_4xx_not_500(staff_app, api):
    big = "9" * 25
    assert api.get(f"/api/v1/tickets?assignee={big}", headers=STAFF).status_code == 400
    assert api.patch(f"/api/v1/users/{big}", headers=STAFF, json={}).status_code == 404
    ref = new_ticket(api, "How do I get huge ids?")
    assert act(api, ref, "assign", assignee=big).status_code == 400
    assert act(api, ref, "reply", macro=big, body="").status_code == 400
    admin = console(staff_app, "admin")
    for path in (f"/console/users/{big}", f"/console/macros/{big}", f"/console/account/tokens/{big}/revoke"):
        assert admin.post(path).status_code == 404


# --- the console in Russian and Ukrainian --------------------------------------------------------
def flashes(html: str) -> list[str]:
    return re.findall(r'class="flash flash-\w+" role="\w+">([^<]*)<', html)


def history_rows(html: str) -> str:
    return html.split('id="h-history"')[1].split("</section>")[0]


def test_the_console_speaks_the_agents_language_in_messages_and_history(staff_app, api):
    ref, other = new_ticket(api, "Nothing works at all since the morning"), new_ticket(api, "How do I pay by card?")
    client = console(staff_app, "agent1", fresh=True)
    client.get("/console/?lang=ru")
    said = lambda action, **form: flashes(client.post(f"/console/t/{ref}/{action}", data=form,
                                                     follow_redirects=True).get_data(as_text=True))
    assert said("take") == ["заявка взята"]
    assert said("flag", article="en/download-invoices", reason="wrong", comment="") == ["Напишите, что не так"]
    [missing] = said("escalate", reason="x", line="2")
    assert missing.startswith("Перед эскалацией соберите факты:") and "since_when" not in missing
    assert flashes(client.post(f"/console/t/{other}/merge", data={"into": "LZ-999999"},
                               follow_redirects=True).get_data(as_text=True)) == ["Заявки LZ-999999 нет"]
    assert flashes(client.post(f"/console/t/{other}/merge", data={"into": ref},
                               follow_redirects=True).get_data(as_text=True)) == [f"объединена с {ref}"]
    page = client.get(f"/console/t/{ref}").get_data(as_text=True)
    assert f"{other} объединена с этой заявкой" in page
    rows = history_rows(page)
    assert "взял(а) заявку" in rows and "Исполнитель: — → L1" in rows and "Статус: Новая → Открыта" in rows
    assert f"объединены: {other}" in rows
    for raw in ("take", "merge_in", "assignee_id", "None", "∅", "'queries'", "{"):
        assert raw not in rows, raw
    client.get("/console/?lang=uk")
    assert said("note", body="перевірив") == ["нотатку додано"]
    assert "The ticket" not in ticket_json(api, ref)["history"][0]["action"]   # the API keeps raw names


def test_the_users_and_articles_pages_speak_ukrainian(staff_app):
    client = console(staff_app, "admin", fresh=True)
    client.get("/console/?lang=uk")
    page = client.post("/console/users", data={"email": "l1@example.com", "role": "agent", "line": "1",
                                               "password": "long enough password"},
                       follow_redirects=True).get_data(as_text=True)
    assert flashes(page) == ["Користувач l1@example.com уже є"]
    short = client.post("/console/users", data={"email": "new@example.com", "role": "analyst", "password": "short"},
                        follow_redirects=True).get_data(as_text=True)
    assert flashes(short) == ["Пароль має містити щонайменше 10 символів"]
    assert '<option value="analyst" >Аналітик</option>' in page and ">analyst<" not in page
    history = page.split("<ol class=\"history\">")[1].split("</ol>")[0]
    assert "створив(ла)" in history and "Активний: Так" in history and "True" not in history
    articles = client.get("/console/articles").get_data(as_text=True)
    assert ">Обліковий запис і вхід</td>" in articles and ">account</td>" not in articles


@pytest.mark.parametrize("body, language, name, expected", [
    ("Здравствуйте, {name}!\nС уважением, {agent}", "ru", "", "Здравствуйте!\nС уважением, Служба поддержки"),
    ("Вітаємо, {name}! {agent}", "uk", "Олена", "Вітаємо, Олена! Служба підтримки"),
    ("Hi {name}, done.", "en", "", "Hi, done."),
    ("{name}, your ticket {reference} is fixed", "en", "", "your ticket LZ-1 is fixed"),
])
def test_canned_answers_without_a_name_or_agent_name_read_naturally(body, language, name, expected):
    from kb_server.console.macros import render
    from kb_server.models import User
    ticket = Ticket(reference="LZ-1", name=name, email="u@example.com", language=language, line=1)
    assert render(body, ticket, User(email="agent@example.com", name="")) == expected
