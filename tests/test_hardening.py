"""Regression tests for defects found by probing Linezero as a hostile user and as product sites
embed it: each failed before its fix."""
from __future__ import annotations

import json

import pytest

from kb_server.extensions import db
from kb_server.models import Event
from kb_server.models.tickets import Ticket
from conftest import make_app
from tests.tickets_helpers import STAFF, UA, add_site, post

CONTACT = {"session_id": "s1", "email": "a@b.co", "message": "ok", "language": "en"}
DEMO_ORIGIN = "http://127.0.0.1:5000"
ACME_ORIGIN = "https://acme.example"


def _raw_post(client, path: str, raw: str, **headers):
    return client.post(f"/api/v1/{path}", data=raw.encode("utf-8", "surrogatepass"),
                       content_type="application/json", headers={"User-Agent": UA, **headers})


# --- 1. a lone surrogate never loses a contact ------------------------------------------------
@pytest.mark.parametrize("path, body", [
    ("contact", {**CONTACT, "query": "\\udbff"}),
    ("contact", {**CONTACT, "message": "help \\ud800 me\\u0000"}),
    ("events", {"session_id": "s1", "kind": "search", "query": "x\\udbff"}),
    ("feedback", {"session_id": "s1", "article_id": "en/reset-password", "helpful": False, "comment": "\\udfff"}),
])
def test_lone_surrogates_and_nul_are_stored_replaced(app, client, path, body):
    raw = json.dumps(body).replace("\\\\u", "\\u")      # the escapes reach the server as sent
    response = _raw_post(client, path, raw)
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        texts = [t.message + t.context.get("query", "") for t in db.session.scalars(db.select(Ticket))]
        texts += [e.query + e.message for e in db.session.scalars(db.select(Event))]
    assert any("\ufffd" in text for text in texts)


def test_the_contact_message_survives_with_the_replacement(app, client):
    response = _raw_post(client, "contact", json.dumps({**CONTACT, "message": "VPN error 809 \\ud83d"})
                         .replace("\\\\u", "\\u"))
    reference = response.get_json()["ticket"]["reference"]
    ticket = client.get(f"/api/v1/tickets/{reference}", headers=STAFF).get_json()["ticket"]
    assert ticket["message"] == "VPN error 809 \ufffd"


# --- 2. deep nesting is a 400 ------------------------------------------------------------------
@pytest.mark.parametrize("depth", [9, 1000, 30_000])
def test_deeply_nested_json_is_a_400(client, depth):
    raw = '{"session_id": "s1", "kind": "search", "query": "q", "x": ' + "[" * depth + "]" * depth + "}"
    response = _raw_post(client, "events", raw)
    assert response.status_code == 400
    assert "nested" in response.get_json()["error"] or "JSON" in response.get_json()["error"]


def test_modest_nesting_is_accepted(client):
    body = {"session_id": "s1", "kind": "search", "query": "q", "x": [[["fine"]]]}
    assert post(client, "events", body).status_code == 201


# --- 6. security headers -------------------------------------------------------------------------
def test_help_center_pages_carry_a_strict_policy(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert client.get("/contact").headers["X-Frame-Options"] == "DENY"


def test_api_answers_are_nosniff_and_not_frameable(client):
    response = client.get("/api/v1/search?q=x")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_the_widget_script_may_be_loaded_by_other_origins(client):
    response = client.get("/widget.js")
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- 7. rate limits: Retry-After, trusted proxies, contacts tighter -----------------------------
def _limited_app(tmp_path, **config):
    return make_app(tmp_path, RATELIMIT_ENABLED=True, **config)


def test_429_says_when_to_retry(tmp_path, articles_dir):
    client = _limited_app(tmp_path / "a", ARTICLES_DIR=str(articles_dir),
                          RATELIMIT_PUBLIC="2/minute").test_client()
    statuses = [client.get("/api/v1/search?q=x").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = client.get("/api/v1/search?q=x")
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.get_json()["status"] == 429


def test_forwarded_for_counts_only_behind_a_trusted_proxy(tmp_path, articles_dir):
    def statuses(client):
        return [client.get("/api/v1/search?q=x", headers={"X-Forwarded-For": f"203.0.113.{i}"})
                .status_code for i in range(3)]
    direct = _limited_app(tmp_path / "a", ARTICLES_DIR=str(articles_dir), RATELIMIT_PUBLIC="2/minute")
    assert statuses(direct.test_client()) == [200, 200, 429]     # one socket address: one bucket
    proxied = _limited_app(tmp_path / "b", ARTICLES_DIR=str(articles_dir), RATELIMIT_PUBLIC="2/minute",
                           TRUSTED_PROXIES=1)
    assert statuses(proxied.test_client()) == [200, 200, 200]    # three users behind the proxy


def test_contacts_are_limited_tighter_than_searches(tmp_path, articles_dir):
    client = _limited_app(tmp_path / "a", ARTICLES_DIR=str(articles_dir)).test_client()
    created = [post(client, "contact", CONTACT).status_code for _ in range(7)]
    assert created.count(201) == 5 and created[-1] == 429
    assert client.get("/api/v1/search?q=x").status_code == 200


# --- 8. CORS is bound to the site key ------------------------------------------------------------
def test_an_origin_reads_only_its_own_sites_answers(app, client):
    add_site(app, "acme")
    own = client.get("/api/v1/widget/config?site=acme", headers={"Origin": ACME_ORIGIN})
    assert own.headers["Access-Control-Allow-Origin"] == ACME_ORIGIN
    other = client.get("/api/v1/widget/config?site=demo", headers={"Origin": ACME_ORIGIN})
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other.headers
    search = client.get("/api/v1/search?q=invoice&site=demo", headers={"Origin": ACME_ORIGIN})
    assert "Access-Control-Allow-Origin" not in search.headers


def test_an_origin_cannot_post_as_another_site(app, client):
    add_site(app, "acme")
    body = {"session_id": "s1", "kind": "search", "query": "q", "site": "demo"}
    assert post(client, "events", body, Origin=ACME_ORIGIN).status_code == 403
    assert post(client, "events", {**body, "site": "acme"}, Origin=ACME_ORIGIN).status_code == 201
    assert post(client, "events", {**body, "site": "demo"}, Origin=DEMO_ORIGIN).status_code == 201
    no_site = {k: v for k, v in body.items() if k != "site"}
    assert post(client, "events", no_site, Origin=ACME_ORIGIN).status_code == 403
    assert post(client, "events", no_site, Origin="http://localhost").status_code == 201  # same origin


# --- privacy -------------------------------------------------------------------------------------
def test_page_urls_lose_query_strings_and_fragments(app, client):
    body = {"session_id": "s1", "kind": "search", "query": "q",
            "page_url": "https://app.example/reset?token=secret&email=a@b.co#step-2"}
    assert post(client, "events", body).status_code == 201
    with app.app_context():
        assert db.session.scalars(db.select(Event)).one().page_url == "https://app.example/reset"


def test_allowed_page_parameters_are_kept(tmp_path, articles_dir):
    app = make_app(tmp_path / "a", ARTICLES_DIR=str(articles_dir), PAGE_URL_PARAMS=("tab",))
    body = {"session_id": "s1", "kind": "search", "query": "q",
            "page_url": "/settings?tab=billing&token=x#top"}
    assert post(app.test_client(), "events", body).status_code == 201
    with app.app_context():
        assert db.session.scalars(db.select(Event)).one().page_url == "/settings?tab=billing"


# --- 9. absolute URLs use the configured public URL, not the Host header -------------------------
def test_a_forged_host_header_does_not_reach_api_links(tmp_path, articles_dir):
    app = make_app(tmp_path / "a", ARTICLES_DIR=str(articles_dir),
                   PUBLIC_URL="https://help.example.com")
    client = app.test_client()
    hits = client.get("/api/v1/search?q=reset+password", headers={"Host": "evil.example"}).get_json()["hits"]
    assert hits and all(hit["url"].startswith("https://help.example.com/a/") for hit in hits)
    categories = client.get("/api/v1/categories", headers={"Host": "evil.example"}).get_json()
    assert all(c["url"].startswith("https://help.example.com/") for c in categories["categories"])


def test_with_a_public_url_a_page_opened_at_the_nodes_own_address_still_posts(tmp_path, articles_dir):
    """Production sets ``KB_PUBLIC_URL``; a node opened by its own address (an admin checking
    one node) posts events, feedback and contacts from that address: the same origin."""
    app = make_app(tmp_path / "a", ARTICLES_DIR=str(articles_dir),
                   PUBLIC_URL="https://help.example.com")
    client = app.test_client()
    body = {"kind": "search", "session_id": "s1", "query": "reset password", "result_ids": []}
    for origin, host in (("http://10.0.0.7:5000", "10.0.0.7:5000"),
                         ("https://help.example.com", "help.example.com")):
        response = client.post("/api/v1/events", json=body, headers={"Origin": origin, "Host": host})
        assert response.status_code == 201, (origin, response.get_json())
    other = client.post("/api/v1/events", json=body,
                        headers={"Origin": "https://evil.example", "Host": "10.0.0.7:5000"})
    assert other.status_code == 403


def test_without_a_public_url_links_follow_the_request(client):
    hits = client.get("/api/v1/search?q=reset+password").get_json()["hits"]
    assert hits[0]["url"].startswith("http://localhost/a/")
