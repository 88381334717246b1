"""KCS: tickets resolved with an article (linked, sent to the user), articles linked and flagged
from tickets, the flagged-articles page, the link rate, and knowledge gaps the knowledge base
now answers (``kb tickets gaps-check``). Every action in HTML and JSON, with the role refusals."""
from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from indexer.index import build_index
from indexer.search import SearchUnavailable
from kb_server.cli.tickets import tickets as tickets_command
from kb_server.console import kcs
from kb_server.extensions import db
from kb_server.models import AuditEntry, KbArticle, Ticket, TicketArticle, utcnow
from staff_helpers import bearer
from test_console import act, change, console, new_ticket, staff_app, ticket_json  # noqa: F401 (fixture)
from tickets_helpers import STAFF, post, search

RESET = "en/reset-password"
INVOICES = "en/download-invoices"


def outbox_mail(app, reference: str):
    """The newest e-mail of ``reference`` in the outbox folder."""
    found = []
    for path in Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"):
        mail = message_from_bytes(path.read_bytes(), policy=default_policy)
        if reference in str(mail["Subject"]):
            found.append((path.stat().st_mtime_ns, mail))
    assert found, f"no mail for {reference}"
    return max(found, key=lambda item: item[0])[1]


@pytest.fixture
def api(staff_app):
    return staff_app.test_client()


# --- resolve with an existing article ------------------------------------------------------------
def test_resolve_with_article_links_replies_and_resolves_from_the_api(staff_app, api):
    ref = new_ticket(api, "I forgot my password, how do I reset it?")
    response = act(api, ref, "resolve-with-article", staff_app.tokens["agent1"], article=RESET,
                   body="Here you go:")
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["ticket"]
    assert data["status"] == "resolved" and data["resolved_at"]
    assert [(link["article"], link["relation"], link["actor"]) for link in data["linked_articles"]] == [
        (RESET, "resolved_with", "l1@example.com")]
    reply = data["messages"][-1]
    assert reply["kind"] == "reply" and reply["delivery"] == "outbox"
    assert reply["body"].startswith("Here you go:") and "Reset your password" in reply["body"]
    assert "http://localhost/a/en/reset-password" in reply["body"]         # absolute link
    assert reply["data"]["article"] == RESET and reply["data"]["rating_links"]
    mail = outbox_mail(staff_app, ref).get_body(("plain",)).get_content()
    assert "Reset your password" in mail and "http://localhost/a/en/reset-password" in mail
    entry = next(e for e in data["history"] if e["action"] == "resolve-with-article")
    assert entry["after"]["article"] == RESET and entry["after"]["status"] == "resolved"


def test_resolve_with_article_sends_the_users_language_version(staff_app, api):
    ref = new_ticket(api, "Как сбросить пароль?", language="ru", session_id="kcs-ru")
    response = act(api, ref, "resolve-with-article", article=RESET)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["ticket"]
    assert data["linked_articles"][0]["article"] == "ru/reset-password"
    assert data["messages"][-1]["body"].startswith("Ответ на ваш вопрос")
    assert "/a/ru/reset-password" in data["messages"][-1]["body"]


def test_resolve_with_article_from_the_console_and_the_find_box(staff_app, api):
    ref = new_ticket(api, "Where are my invoices?", session_id="kcs-console")
    client = console(staff_app, "agent1")
    page = client.get(f"/console/t/{ref}?find=reset+password").get_data(as_text=True)
    found = page.split("data-found>")[1].split("</div>")[0]
    assert f'name="article" value="{RESET}"' in found and "Reset your password" in found
    assert 'form="kcs-resolve"' in found and 'form="kcs-link"' in found
    response = client.post(f"/console/t/{ref}/resolve-with-article", data={"article": RESET},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "resolved with en/reset-password; reply queued for the outbox" in html
    linked = html.split('id="h-linked"')[1].split("</section>")[0]
    assert f'data-link="{RESET}" data-relation="resolved_with"' in linked
    assert ticket_json(api, ref)["status"] == "resolved"
    nothing = client.get(f"/console/t/{ref}?find=qqqzzz+nonexistent").get_data(as_text=True)
    assert "Nothing found." in nothing.split("data-found>")[1]


@pytest.mark.parametrize("body, status, error", [
    ({}, 400, "'article' is required"),
    ({"article": "reset-password"}, 400, "language/slug"),
    ({"article": ["en/reset-password"]}, 400, "'article' is required"),
    ({"article": "en/no-such-article"}, 404, "no public article"),
    ({"article": "en/draft-plans"}, 404, "no public article"),       # a draft is never sent
    ({"article": "x/" + "y" * 300}, 400, "language/slug"),
    ({"article": RESET, "body": "x" * 20_001}, 400, "longer than"),
])
def test_resolve_with_article_rejects_bad_input(staff_app, api, body, status, error):
    ref = new_ticket(api, "bad resolve input")
    response = act(api, ref, "resolve-with-article", **body)
    assert response.status_code == status and error in response.get_json()["error"]
    assert ticket_json(api, ref)["status"] == "new" and ticket_json(api, ref)["linked_articles"] == []


def test_resolve_with_article_needs_an_email_and_an_open_ticket(staff_app, api):
    ref = new_ticket(api, "no e-mail here", session_id="kcs-noemail")
    change(staff_app, ref, email="")                # e.g. the user was erased
    assert act(api, ref, "resolve-with-article", article=RESET).status_code == 409
    closed = new_ticket(api, "closed already", session_id="kcs-closed")
    act(api, closed, "status", status="closed")
    assert act(api, closed, "resolve-with-article", article=RESET).status_code == 409
    assert ticket_json(api, closed)["linked_articles"] == []


# --- link and flag -------------------------------------------------------------------------------
def test_link_is_idempotent_and_checks_the_relation(staff_app, api):
    ref = new_ticket(api, "link me")
    for _ in range(2):
        assert act(api, ref, "link", article="en/two-factor").status_code == 200
    assert act(api, ref, "link", article="en/draft-plans", relation="created_from").status_code == 200
    assert act(api, ref, "link", article=RESET, relation="liked").status_code == 400
    links = ticket_json(api, ref)["linked_articles"]
    assert [(l["article"], l["relation"]) for l in links] == [
        ("en/two-factor", "referenced"), ("en/draft-plans", "created_from")]
    assert ticket_json(api, ref)["status"] == "new"
    page = console(staff_app, "agent1").post(f"/console/t/{ref}/link", data={"article": RESET},
                                             follow_redirects=True).get_data(as_text=True)
    assert "linked en/reset-password" in page and f'data-link="{RESET}"' in page


def test_merging_a_ticket_moves_its_links_and_flags(staff_app, api):
    duplicate, target = new_ticket(api, "dup with link"), new_ticket(api, "target with link")
    act(api, duplicate, "link", article=RESET)
    act(api, duplicate, "link", article="en/two-factor")
    act(api, duplicate, "flag", article=RESET, reason="wrong", comment="typo")
    act(api, target, "link", article=RESET)
    assert act(api, duplicate, "merge", into=target).status_code == 200
    moved = ticket_json(api, target)
    assert sorted(l["article"] for l in moved["linked_articles"]) == ["en/reset-password", "en/two-factor"]
    assert [f["comment"] for f in moved["article_flags"]] == ["typo"]
    assert ticket_json(api, duplicate)["linked_articles"] == []


def test_flag_from_a_ticket_and_resolve_it_on_the_flags_page(staff_app, api):
    # only this test flags the invoices article: the counts below are its own
    ref = new_ticket(api, "the invoice download article is wrong", session_id="kcs-flag")
    agent = console(staff_app, "agent1")
    page = agent.get(f"/console/t/{ref}").get_data(as_text=True)
    assert "data-flag-form" in page and f'<option value="{INVOICES}">' in page
    response = agent.post(f"/console/t/{ref}/flag", data={
        "article": INVOICES, "reason": "outdated", "comment": "The button is now called Get PDF"},
        follow_redirects=True)
    assert "flagged en/download-invoices" in response.get_data(as_text=True)
    flagged = act(api, ref, "flag", staff_app.tokens["agent1"], article=INVOICES, reason="wrong",
                  comment="Step 3 is wrong")
    assert flagged.status_code == 200
    flags = flagged.get_json()["ticket"]["article_flags"]
    assert [(f["reason"], f["status"]) for f in flags] == [("outdated", "open"), ("wrong", "open")]
    assert flagged.get_json()["ticket"]["messages"][-1]["data"]["flag"] == flags[-1]["id"]

    editor = console(staff_app, "editor")
    html = editor.get("/console/flags").get_data(as_text=True)
    row = html.split(f'data-flagged="{INVOICES}"')[1].split("</tr>")[0]
    assert "<td class=\"col-num\" data-flag-count>2</td>" in row and ref in row
    assert "The button is now called Get PDF" in html and 'href="/console/flags"' in html
    listed = api.get("/api/v1/flags", headers=bearer(staff_app.tokens["editor"])).get_json()
    entry = next(a for a in listed["articles"] if a["article"] == INVOICES)
    assert entry["count"] == 2 and entry["reasons"] == {"outdated": 1, "wrong": 1} and ref in entry["tickets"]

    first = flags[0]["id"]
    assert editor.post(f"/console/flags/{first}/resolve", data={"note": ""},
                       follow_redirects=True).status_code == 200        # flashed, still open
    done = editor.post(f"/console/flags/{first}/resolve", data={"note": "Renamed the button"},
                       follow_redirects=True).get_data(as_text=True)
    assert "en/download-invoices: flag resolved" in done
    resolved = api.post(f"/api/v1/flags/{flags[1]['id']}/resolve", headers=STAFF,
                        json={"note": "Fixed step 3"})
    assert resolved.status_code == 200 and resolved.get_json()["flag"]["resolved_by"] == "admin@example.com"
    again = api.post(f"/api/v1/flags/{flags[1]['id']}/resolve", headers=STAFF, json={"note": "x"})
    assert again.status_code == 409
    assert [f["status"] for f in ticket_json(api, ref)["article_flags"]] == ["resolved", "resolved"]
    with staff_app.app_context():
        audited = db.session.scalars(db.select(AuditEntry).filter_by(entity="flag")).all()
        assert {entry.after["resolution_note"] for entry in audited} >= {"Renamed the button", "Fixed step 3"}
    assert staff_app.test_client().get("/a/en/download-invoices").status_code == 200   # public view as is


@pytest.mark.parametrize("body, status", [
    ({"article": RESET, "reason": "ugly", "comment": "x"}, 400),
    ({"article": RESET, "reason": "wrong", "comment": "  "}, 400),
    ({"article": RESET, "reason": "wrong"}, 400),
    ({"article": "en/missing", "reason": "wrong", "comment": "x"}, 404),
    ({"reason": "wrong", "comment": "x"}, 400),
])
def test_flag_rejects_bad_input(api, body, status):
    ref = new_ticket(api, "bad flag input")
    response = act(api, ref, "flag", **body)
    assert response.status_code == status, response.get_json()
    assert ticket_json(api, ref)["article_flags"] == []


def test_flag_resolution_rejects_bad_input(api):
    assert api.post("/api/v1/flags/999999/resolve", headers=STAFF, json={"note": "x"}).status_code == 404
    assert api.post("/api/v1/flags/1/resolve", headers=STAFF, data="nope",
                    content_type="application/json").status_code == 400
    assert api.post("/api/v1/flags/1/resolve", headers=STAFF, json={"note": 3}).status_code == 400
    assert api.post(f"/api/v1/flags/{'9' * 25}/resolve", headers=STAFF, json={"note": "x"}).status_code == 404


# --- role refusals (HTML and JSON) ---------------------------------------------------------------
ROLES = ("anonymous", "admin", "agent1", "agent2", "editor", "analyst")
HTML_MATRIX = [
    ("POST", "/console/t/{line1}/resolve-with-article", {"anonymous": 302, "admin": 302, "agent1": 302, "agent2": 302, "editor": 403, "analyst": 403}),
    ("POST", "/console/t/{line2}/resolve-with-article", {"anonymous": 302, "admin": 302, "agent1": 403, "agent2": 302, "editor": 403, "analyst": 403}),
    ("POST", "/console/t/{line1}/link", {"anonymous": 302, "admin": 302, "agent1": 302, "agent2": 302, "editor": 403, "analyst": 403}),
    ("POST", "/console/t/{line1}/flag", {"anonymous": 302, "admin": 302, "agent1": 302, "agent2": 302, "editor": 403, "analyst": 403}),
    ("POST", "/console/t/{line2}/flag", {"anonymous": 302, "admin": 302, "agent1": 403, "agent2": 302, "editor": 403, "analyst": 403}),
    ("GET", "/console/flags", {"anonymous": 302, "admin": 200, "agent1": 403, "agent2": 403, "editor": 200, "analyst": 403}),
    ("POST", "/console/flags/{flag}/resolve", {"anonymous": 302, "admin": 302, "agent1": 403, "agent2": 403, "editor": 302, "analyst": 403}),
]
JSON_MATRIX = [
    ("POST", "/api/v1/tickets/{line1}/resolve-with-article", {"anonymous": 401, "admin": 200, "agent1": 200, "agent2": 200, "editor": 403, "analyst": 403}),
    ("POST", "/api/v1/tickets/{line2}/resolve-with-article", {"anonymous": 401, "admin": 200, "agent1": 403, "agent2": 200, "editor": 403, "analyst": 403}),
    ("POST", "/api/v1/tickets/{line1}/link", {"anonymous": 401, "admin": 200, "agent1": 200, "agent2": 200, "editor": 403, "analyst": 403}),
    ("POST", "/api/v1/tickets/{line1}/flag", {"anonymous": 401, "admin": 200, "agent1": 200, "agent2": 200, "editor": 403, "analyst": 403}),
    ("POST", "/api/v1/tickets/{line2}/flag", {"anonymous": 401, "admin": 200, "agent1": 403, "agent2": 200, "editor": 403, "analyst": 403}),
    ("GET", "/api/v1/flags", {"anonymous": 401, "admin": 200, "agent1": 403, "agent2": 403, "editor": 200, "analyst": 403}),
    ("POST", "/api/v1/flags/{flag}/resolve", {"anonymous": 401, "admin": 200, "agent1": 403, "agent2": 403, "editor": 200, "analyst": 403}),
    ("GET", "/api/v1/kcs/link-rate", {"anonymous": 401, "admin": 200, "agent1": 200, "agent2": 200, "editor": 200, "analyst": 200}),
]
FORM = {"article": RESET, "reason": "wrong", "comment": "a comment", "note": "done"}


@pytest.fixture(scope="module")
def matrix_tickets(staff_app):
    """Per role a line-1 and a line-2 ticket and two open flags (one for the console, one for
    the API), so one role's success does not change another's answer."""
    client = staff_app.test_client()
    tickets = {}
    for role in ROLES:
        line1, line2 = new_ticket(client, f"kcs matrix one {role}"), new_ticket(client, f"kcs matrix two {role}")
        change(staff_app, line2, line=2)
        flags = [act(client, line1, "flag", **FORM).get_json()["ticket"]["article_flags"][-1]["id"]
                 for _ in range(2)]
        tickets[role] = {"line1": line1, "line2": line2, "flag": flags[0], "api_flag": flags[1]}
    return tickets


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path, expected", HTML_MATRIX, ids=[f"{m} {p}" for m, p, _ in HTML_MATRIX])
def test_kcs_console_role_matrix(staff_app, matrix_tickets, role, method, path, expected):
    client = staff_app.test_client() if role == "anonymous" else console(staff_app, role)
    url = path.format(**matrix_tickets[role])
    response = client.get(url) if method == "GET" else client.post(url, data=FORM)
    assert response.status_code == expected[role], response.get_data(as_text=True)[:300]
    if role == "anonymous":
        assert "/console/login" in response.headers["Location"]
    if expected[role] == 403:
        assert "You do not have access" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path, expected", JSON_MATRIX, ids=[f"{m} {p}" for m, p, _ in JSON_MATRIX])
def test_kcs_api_role_matrix(staff_app, api, matrix_tickets, role, method, path, expected):
    headers = {} if role == "anonymous" else bearer(staff_app.tokens[role])
    url = path.format(**{**matrix_tickets[role], "flag": matrix_tickets[role]["api_flag"]})
    response = api.get(url, headers=headers) if method == "GET" else api.post(url, headers=headers, json=FORM)
    assert response.status_code == expected[role], response.get_json()
    if expected[role] >= 400:
        assert response.get_json()["status"] == expected[role]


def test_flagging_needs_the_articles_flag_right(staff_app, api, monkeypatch):
    from kb_server import auth
    ref = new_ticket(api, "flag right")
    monkeypatch.setitem(auth.CAPABILITIES, "articles.flag", ("admin",))
    refused = act(api, ref, "flag", staff_app.tokens["agent1"], **FORM)
    assert refused.status_code == 403 and "agent role may not" in refused.get_json()["error"]


# --- link rate -----------------------------------------------------------------------------------
def test_link_rate_counts_resolved_tickets_with_a_linked_article(app):
    client = app.test_client()
    with app.app_context():
        assert kcs.link_rate() == {"resolved": 0, "linked": 0, "rate": None}
    refs = [new_ticket(client, f"rate ticket {n}", session_id=f"rate{n}") for n in range(4)]
    act(client, refs[0], "resolve-with-article", article=RESET)
    act(client, refs[1], "status", status="resolved")
    act(client, refs[2], "link", article=RESET)                        # linked, still open
    act(client, refs[3], "link", article=RESET)
    act(client, refs[3], "status", status="closed")
    with app.app_context():
        assert kcs.link_rate() == {"resolved": 3, "linked": 2, "rate": 0.6667}
        tomorrow = utcnow() + dt.timedelta(days=1)
        assert kcs.link_rate(start=tomorrow)["resolved"] == 0
        assert kcs.link_rate(end=tomorrow)["linked"] == 1      # the closed one was never resolved
    body = client.get("/api/v1/kcs/link-rate", headers=STAFF).get_json()
    assert body["link_rate"] == {"resolved": 3, "linked": 2, "rate": 0.6667}
    assert client.get("/api/v1/kcs/link-rate?since=2020-01-01&until=2999-01-01Z", headers=STAFF
                      ).get_json()["link_rate"]["linked"] == 1
    assert client.get("/api/v1/kcs/link-rate?since=yesterday", headers=STAFF).status_code == 400
    from staff_helpers import login, STAFF_ADMIN
    login(client, STAFF_ADMIN)
    queue = client.get("/console/").get_data(as_text=True)
    assert 'data-link-rate="0.6667"' in queue and "Link rate: <strong>67 %</strong>" in queue
    assert "(2/3)" in queue


# --- knowledge gaps the knowledge base now answers -----------------------------------------------
QUANTUM = """---
title: Frobnicate the quantum widget
slug: quantum-widget
language: en
category: account
summary: How to frobnicate the quantum widget.
---
To frobnicate the quantum widget, open Settings and press Frobnicate.

## Quantum widget errors
If the quantum widget refuses to frobnicate, restart it.
"""


def test_a_gap_whose_queries_now_find_an_article_is_marked_answered(app, articles_dir, tmp_path,
                                                                   monkeypatch):
    client = app.test_client()
    for session in ("gq1", "gq2"):
        search(client, session, "frobnicate quantum widget", language="en")
    search(client, "gq3", "quantum widget frobnicate", language="en")
    search(client, "gz1", "zorblax hyperdrive calibration", language="en")
    contact = new_ticket(client, "Please tell me how to frobnicate it", session_id="gq1",
                         email="fan@example.com")
    gaps = {t["gap"]["query"]: t["reference"]
            for t in client.get("/api/v1/tickets?view=gaps", headers=STAFF).get_json()["tickets"]}
    quantum, zorblax = gaps["frobnicate quantum widget"], gaps["zorblax hyperdrive calibration"]
    with app.app_context():
        assert kcs.check_gaps() == []                           # nothing answers them yet

    (articles_dir / "en" / "quantum-widget.md").write_text(QUANTUM, encoding="utf-8")
    build_index(articles_dir, tmp_path / "index")
    app.extensions["search"].reload()
    result = app.test_cli_runner().invoke(tickets_command, ["gaps-check", "--notify"])
    assert result.exit_code == 0, result.output
    assert f"{quantum} answered by en/quantum-widget (notified: {contact})" in result.output
    assert "gaps answered: 1" in result.output

    gap = ticket_json(client, quantum)
    assert gap["status"] == "resolved" and gap["resolved_at"]
    assert [(l["article"], l["relation"], l["actor"]) for l in gap["linked_articles"]] == [
        ("en/quantum-widget", "resolved_with", "system")]
    assert "Frobnicate the quantum widget" in gap["messages"][-1]["body"]
    answered = [h for h in gap["history"] if h["action"] == "gap_answered"]
    assert answered and answered[0]["after"]["article"] == "en/quantum-widget"
    assert answered[0]["after"]["notified"] == [contact] and answered[0]["actor"] == "system"
    notice = ticket_json(client, contact)["messages"][-1]
    assert notice["kind"] == "reply" and "http://127.0.0.1:5000/a/en/quantum-widget" in notice["body"]
    assert "Frobnicate the quantum widget" in outbox_mail(app, contact).get_body(("plain",)).get_content()
    assert ticket_json(client, zorblax)["status"] == "new"           # still unanswered
    with app.app_context():
        assert kcs.check_gaps() == []                           # answered once
    def unavailable(*args, **kwargs):
        raise SearchUnavailable("no index: run `kb index`")
    monkeypatch.setattr(kcs.search, "search", unavailable)
    broken = app.test_cli_runner().invoke(tickets_command, ["gaps-check"])
    assert broken.exit_code == 1 and "search is unavailable" in broken.output


def test_a_gap_prefers_its_linked_article_and_notifies_only_when_asked(app):
    client = app.test_client()
    search(client, "gp1", "reset password link expired", language="en")
    new_ticket(client, "reset link?", session_id="gp1", email="quiet@example.com")
    with app.app_context():
        gap = db.session.scalar(db.select(Ticket).filter_by(kind="gap"))
        # a zero-result query that now finds articles (the index answered it all along here)
        assert kcs.answering_article(gap).id == RESET
        kcs.link_article(gap, "en", "two-factor", "created_from", "test", translation_key="two-factor")
        db.session.commit()
        gap.gap = {"queries": {"reset password": 2, "two-factor code": 1}}
        assert kcs.answering_article(gap).id == "en/two-factor"     # the linked one wins
        gap.gap = {"queries": {"qqzzx blorf": 3, "reset password": 1}}
        assert kcs.answering_article(gap) is None                  # most searches still fail
        gap.gap = {"queries": {"reset password": 2}}      # two-factor is among its results too
        assert kcs.check_gaps() == [{"reference": gap.reference, "article": "en/two-factor",
                                     "notified": []}]
        assert db.session.scalar(db.select(db.func.count()).select_from(TicketArticle)
                                 .filter_by(relation="referenced")) == 0


def test_the_article_users_rated_not_helpful_does_not_answer_their_gap(app):
    """A "not helpful" gap: search still finds the article voted down (that is how its users
    got there), which answers nothing until it is published again after the votes."""
    client = app.test_client()
    search(client, "nh1", "reset password", [RESET], language="en")
    post(client, "feedback", {"session_id": "nh1", "article_id": RESET, "helpful": False,
                              "reason": "unclear"})
    with app.app_context():
        gap = db.session.scalar(db.select(Ticket).filter_by(kind="gap"))
        assert RESET in gap.gap["articles"]
        assert kcs.check_gaps() == []                           # the same article: no answer
        article = db.session.scalar(db.select(KbArticle).filter_by(language="en", slug="reset-password"))
        if article is None:
            article = KbArticle(language="en", slug="reset-password", title="Reset", category="account",
                                translation_key="reset-password", state="validated")
            db.session.add(article)
        article.published_at = gap.gap_last_seen + dt.timedelta(minutes=5)   # rewritten since
        db.session.commit()
        assert [row["article"] for row in kcs.check_gaps()] == [RESET]


def test_resolving_a_gap_ticket_with_an_article_can_notify_its_users(staff_app, api):
    search(api, "gr1", "qwv resetting passwords zz", language="en")
    contact = new_ticket(api, "how to reset?", session_id="gr1", email="waiting@example.com")
    gap = api.get("/api/v1/tickets?view=gaps&q=qwv", headers=STAFF).get_json()["tickets"][0]["reference"]
    page = console(staff_app, "agent1").get(f"/console/t/{gap}").get_data(as_text=True)
    assert 'name="notify"' in page
    response = act(api, gap, "resolve-with-article", article=RESET, notify=True)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["outcome"] == f"resolved with {RESET}; users notified: 1"
    assert response.get_json()["ticket"]["status"] == "resolved"
    assert "Reset your password" in ticket_json(api, contact)["messages"][-1]["body"]


def test_the_job_consumer_checks_the_gaps_periodically(app):
    from kb_server import jobs
    client = app.test_client()
    search(client, "gj1", "reset password link expired", language="en")
    with app.app_context():
        spec = jobs.JOBS["kcs.gaps"]
        assert spec.every_setting == "GAPS_CHECK_SECONDS" and app.config["GAPS_CHECK_SECONDS"] == 3600
        assert jobs.jobs().tasks["kcs.gaps"].call_local() == 1             # the index answers it
        gap = db.session.scalar(db.select(Ticket).filter_by(kind="gap"))
        assert gap.status == "resolved"
        assert jobs.jobs().tasks["kcs.gaps"].call_local() == 0
