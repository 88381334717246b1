"""Widget endpoints over HTTP: widget.js, the demo page, the site config, CORS, rate limits,
and the ``kb site`` command."""
from __future__ import annotations

import gzip
import json
import re

import pytest

from kb_server import i18n
from kb_server.extensions import db
from kb_server.models import Site
from kb_server.cli.sites import site_group
from kb_server.views.widget import WIDGETS_DIR
from conftest import make_app

DEMO_ORIGIN = "http://127.0.0.1:5000"   # a default origin of the demo site
OTHER_ORIGIN = "https://evil.example"


# --- widget.js ---------------------------------------------------------------------------------

def test_widget_js_is_served_as_cacheable_javascript(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "max-age=" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_data(as_text=True)
    assert "window.Linezero" in body and "attachShadow" in body
    assert body.startswith("/*! Linezero")
    # Whole-line comments and indentation are not shipped.
    assert "\n  " not in body and "\n// " not in body


def test_widget_js_revalidates_with_etag(client):
    first = client.get("/widget.js")
    etag = first.headers["ETag"]
    again = client.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_widget_js_is_gzipped_for_browsers_that_accept_it(client):
    plain = client.get("/widget.js")
    packed = client.get("/widget.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert packed.headers["ETag"] != plain.headers["ETag"]


# --- demo page ---------------------------------------------------------------------------------

def test_demo_page_embeds_the_widget(client):
    html = client.get("/demo").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert 'src="/widget.js"' in html and 'data-site="demo"' in html
    assert 'data-page-path="/billing/plans"' in html
    assert "Orbita — Billing" in html
    assert "font-size: 30px !important" in html      # the hostile CSS


def test_demo_page_language_path_and_options(client):
    html = client.get("/demo/login?lang=ru&color=%23aa3300&position=left").get_data(as_text=True)
    assert '<html lang="ru">' in html
    assert 'data-page-path="/login"' in html
    assert 'data-color="#aa3300"' in html and 'data-position="left"' in html
    calm = client.get("/demo?hostile=0").get_data(as_text=True)
    assert "font-size: 30px !important" not in calm


def test_demo_page_rejects_odd_parameters(client):
    html = client.get('/demo?lang=xx&color="><script>alert(1)</script>&position=top').get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "alert(1)" not in html and "data-color" not in html
    assert 'data-position="right"' in html


# --- site config -------------------------------------------------------------------------------

def test_config_of_the_demo_site(client):
    response = client.get("/api/v1/widget/config?site=demo")
    assert response.status_code == 200
    data = response.get_json()
    assert data["site"] == {"key": "demo", "name": "Demo product", "default_language": "en"}
    assert data["language"] == "en"
    assert data["languages"] == ["en", "ru", "uk"]
    assert [c["id"] for c in data["categories"]] == ["account", "billing"]
    assert data["categories"][0]["name"] == "Account and sign-in"


def test_config_is_localized(client):
    data = client.get("/api/v1/widget/config?site=demo&lang=ru").get_json()
    assert data["language"] == "ru"
    assert data["categories"][1]["name"] == "Оплата"


def test_config_only_lists_the_sites_categories(app, client):
    with app.app_context():
        db.session.add(Site(key="shop", name="Shop", origins=["https://shop.example"],
                            default_language="uk", categories=["billing"]))
        db.session.commit()
    data = client.get("/api/v1/widget/config?site=shop").get_json()
    assert data["language"] == "uk"
    assert [c["id"] for c in data["categories"]] == ["billing"]


@pytest.mark.parametrize("query, status", [
    ("site=nope", 404), ("", 400), ("site=demo&lang=de", 400), ("site=" + "x" * 100, 400),
])
def test_config_errors_are_json(client, query, status):
    response = client.get(f"/api/v1/widget/config?{query}")
    assert response.status_code == status
    assert response.is_json and response.get_json()["status"] == status


# --- CORS --------------------------------------------------------------------------------------

def test_cors_echoes_a_configured_origin(client):
    response = client.get("/api/v1/widget/config?site=demo", headers={"Origin": DEMO_ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == DEMO_ORIGIN
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_cors_ignores_other_origins(client):
    response = client.get("/api/v1/widget/config?site=demo", headers={"Origin": OTHER_ORIGIN})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers["Vary"]


def test_cors_headers_on_errors_so_the_widget_can_read_them(client):
    response = client.get("/api/v1/widget/config?site=nope", headers={"Origin": DEMO_ORIGIN})
    assert response.status_code == 404
    assert response.headers["Access-Control-Allow-Origin"] == DEMO_ORIGIN


def test_preflight_for_a_configured_origin(client):
    response = client.options("/api/v1/events", headers={
        "Origin": DEMO_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == DEMO_ORIGIN
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
    assert int(response.headers["Access-Control-Max-Age"]) > 0


def test_preflight_for_another_origin_gets_no_cors_headers(client):
    response = client.options("/api/v1/events", headers={
        "Origin": OTHER_ORIGIN, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers


def test_staff_ticket_api_never_gets_cors(client):
    for method in ("get", "options"):
        response = getattr(client, method)("/api/v1/tickets", headers={
            "Origin": DEMO_ORIGIN, "Access-Control-Request-Method": "GET",
            "Authorization": "Bearer test-token"})
        assert "Access-Control-Allow-Origin" not in response.headers, method


def test_no_cors_outside_the_api(client):
    response = client.get("/demo", headers={"Origin": DEMO_ORIGIN})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_demo_site_origins_come_from_config(tmp_path, articles_dir):
    app = _app(tmp_path, articles_dir, DEMO_SITE_ORIGINS=["http://localhost:8123"])
    client = app.test_client()
    allowed = client.get("/api/v1/widget/config?site=demo", headers={"Origin": "http://localhost:8123"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:8123"
    denied = client.get("/api/v1/widget/config?site=demo", headers={"Origin": DEMO_ORIGIN})
    assert "Access-Control-Allow-Origin" not in denied.headers


# --- rate limit --------------------------------------------------------------------------------

def _app(tmp_path, articles_dir, **config):
    return make_app(tmp_path / "other", ARTICLES_DIR=str(articles_dir), **config)


def test_public_endpoints_are_rate_limited(tmp_path, articles_dir):
    app = _app(tmp_path, articles_dir, RATELIMIT_ENABLED=True, RATELIMIT_PUBLIC="3/minute")
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/widget/config?site=demo").status_code == 200
    response = client.get("/api/v1/widget/config?site=demo", headers={"Origin": DEMO_ORIGIN})
    assert response.status_code == 429
    assert response.is_json and response.get_json()["status"] == 429
    # The widget can read the error (CORS headers on the 429 too).
    assert response.headers["Access-Control-Allow-Origin"] == DEMO_ORIGIN


# --- kb site -----------------------------------------------------------------------------------

def test_site_cli_add_list_remove(app, client, runner):
    result = runner.invoke(site_group, ["add", "orbita", "--name", "Orbita", "--origin",
                                        "https://App.Orbita.example/", "--origin",
                                        "http://localhost:3000", "--lang", "ru",
                                        "--category", "billing"])
    assert result.exit_code == 0, result.output
    assert "https://app.orbita.example" in result.output

    listed = json.loads(runner.invoke(site_group, ["list", "--json"]).output)
    orbita = next(s for s in listed if s["key"] == "orbita")
    assert orbita == {"key": "orbita", "name": "Orbita", "default_language": "ru",
                      "origins": ["https://app.orbita.example", "http://localhost:3000"],
                      "categories": ["billing"]}
    assert "orbita" in runner.invoke(site_group, ["list"]).output

    headers = {"Origin": "http://localhost:3000"}
    assert client.get("/api/v1/widget/config?site=orbita", headers=headers) \
        .headers["Access-Control-Allow-Origin"] == "http://localhost:3000"

    assert runner.invoke(site_group, ["remove", "orbita"]).exit_code == 0
    assert "Access-Control-Allow-Origin" not in client.get(
        "/api/v1/widget/config?site=demo", headers=headers).headers
    assert client.get("/api/v1/widget/config?site=orbita").status_code == 404


@pytest.mark.parametrize("args, message", [
    (["add", "demo", "--origin", "https://a.example"], "already exists"),
    (["add", "x", "--origin", "https://a.example/path"], "not an origin"),
    (["add", "x", "--origin", "ftp://a.example"], "not an origin"),
    (["add", "Bad Key", "--origin", "https://a.example"], "lowercase"),
    (["add", "x"], "--origin"),
    (["add", "x", "--origin", "https://a.example", "--category", "billing", "--category", "nosuch"],
     "unknown category 'nosuch': expected one of account, billing"),
    (["remove", "nope"], "no site"),
])
def test_site_cli_errors(runner, args, message):
    result = runner.invoke(site_group, args)
    assert result.exit_code != 0
    assert message in result.output


# --- one wording in the widget and the help center -----------------------------------------------

# widget.js string key -> kb_server/i18n.py key, for the "was this helpful?" form
FEEDBACK_STRINGS = {
    "helpful": "helpful_question", "yes": "yes", "no": "no", "whatWrong": "reason_legend",
    "reason_outdated": "reason_outdated", "reason_unclear": "reason_unclear",
    "reason_not_solved": "reason_not_solved", "reason_other": "reason_other",
    "comment": "comment_label", "send": "send", "thanks": "thanks",
}


def widget_strings() -> dict[str, dict[str, str]]:
    """The widget's UI strings by language, as written in widget.js (``key: "text"``)."""
    source = (WIDGETS_DIR / "widget.js").read_text(encoding="utf-8")
    start = source.index("var STRINGS = {")
    block = source[start:source.index("\n  };", start)]
    parts = re.split(r"\n    (en|ru|uk): \{", block)[1:]
    return {lang: dict(re.findall(r'(\w+): "([^"]*)"', body)) for lang, body in zip(parts[::2], parts[1::2])}


def test_feedback_form_words_match_the_help_center():
    strings = widget_strings()
    assert set(strings) == set(i18n.LANGUAGES)
    for lang, texts in strings.items():
        widget = {key: texts[key] for key in FEEDBACK_STRINGS}
        help_center = {key: i18n.STRINGS[other][lang] for key, other in FEEDBACK_STRINGS.items()}
        assert widget == help_center, lang
