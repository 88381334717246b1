"""The staff API's authoring writes (``kb_server.views.articles_api``): draft, save with a base
revision, submit, publish, archive, restore; each route's role checks and bad input."""
from __future__ import annotations

import shutil

import pytest

from authoring_helpers import BODY
from conftest import app_config
from kb_server import create_app
from staff_helpers import add_staff, bearer

FIELDS = {"title": "Export your data", "slug": "export-data", "language": "en",
          "category": "account", "tags": ["export", "backup"], "summary": "Download a copy.",
          "urls": ["/settings/export*"], "visibility": "public", "body": BODY}


@pytest.fixture(scope="module")
def api_app(tmp_path_factory, template):
    """One app for the module with an agent, an editor and an analyst (``app.tokens``)."""
    root = tmp_path_factory.mktemp("articles_api")
    shutil.copytree(template / "index", root / "index")
    shutil.copytree(template / "articles", root / "articles")
    shutil.copy2(template / "test.db", root / "test.db")
    app = create_app(app_config(root))
    with app.app_context():
        app.tokens = {role: add_staff(f"api-{role}@example.com", role, 1 if role == "agent" else None)
                      for role in ("agent", "editor", "analyst")}
    return app


@pytest.fixture
def call(api_app):
    """``call(role, method, path, json=...)``: the response of a request with that role's token."""
    client = api_app.test_client()

    def request(role, method, path, **kwargs):
        headers = bearer(api_app.tokens[role]) if role else {}
        return client.open(path, method=method, headers=headers, **kwargs)
    return request


def _draft(call, slug: str, role: str = "agent") -> dict:
    response = call(role, "POST", "/api/v1/articles", json={**FIELDS, "slug": slug})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _file(api_app, slug: str):
    from pathlib import Path
    return Path(api_app.config["ARTICLES_DIR"]) / "en" / f"{slug}.md"


def test_a_draft_is_saved_submitted_published_and_found(api_app, call):
    draft = _draft(call, "api-export")
    article_id = draft["article"]["id"]
    assert draft["article"]["state"] == "work_in_progress" and not draft["article"]["published"]
    assert draft["latest"]["body"] == BODY and draft["latest"]["number"] == 1

    saved = call("agent", "POST", f"/api/v1/articles/{article_id}/revisions",
                 json={**FIELDS, "slug": "api-export", "title": "Export all your data",
                       "base_revision": 1, "note": "clearer title"})
    assert saved.status_code == 201
    assert [(r["number"], r["note"]) for r in saved.get_json()["revisions"]][0] == (2, "clearer title")

    submitted = call("agent", "POST", f"/api/v1/articles/{article_id}/submit", json={"base_revision": 2})
    assert submitted.status_code == 200 and submitted.get_json()["article"]["state"] == "not_validated"
    assert call("agent", "POST", f"/api/v1/articles/{article_id}/publish").status_code == 403
    assert not _file(api_app, "api-export").exists()

    published = call("editor", "POST", f"/api/v1/articles/{article_id}/publish", json={"base_revision": 2})
    assert published.status_code == 200, published.get_json()
    body = published.get_json()
    assert body["article"]["state"] == "validated" and body["article"]["published"]
    assert body["article"]["file_hash"]
    assert "title: Export all your data" in _file(api_app, "api-export").read_text(encoding="utf-8")
    hits = call(None, "GET", "/api/v1/search?q=export+all+your+data").get_json()["hits"]
    assert "en/api-export" in [hit["id"] for hit in hits]


def test_a_save_on_a_stale_base_revision_is_a_conflict_and_keeps_nothing(call):
    article_id = _draft(call, "api-stale")["article"]["id"]
    first = call("agent", "POST", f"/api/v1/articles/{article_id}/revisions",
                 json={**FIELDS, "slug": "api-stale", "body": "Mine.\n", "base_revision": 1})
    assert first.status_code == 201
    late = call("editor", "POST", f"/api/v1/articles/{article_id}/revisions",
                json={**FIELDS, "slug": "api-stale", "body": "Theirs.\n", "base_revision": 1})
    assert late.status_code == 409 and late.get_json()["latest_revision"] == 2
    again = call("editor", "POST", f"/api/v1/articles/{article_id}/submit", json={"base_revision": 1})
    assert again.status_code == 409
    now = call("analyst", "GET", f"/api/v1/articles/{article_id}").get_json()
    assert now["latest"]["body"] == "Mine.\n" and len(now["revisions"]) == 2
    assert now["article"]["state"] == "work_in_progress"


def test_publishing_over_a_file_changed_on_disk_is_a_conflict_with_its_text(api_app, call):
    article_id = _draft(call, "api-disk")["article"]["id"]
    assert call("editor", "POST", f"/api/v1/articles/{article_id}/publish").status_code == 200
    _file(api_app, "api-disk").write_text("---\ntitle: By hand\n---\nEdited in git.\n", encoding="utf-8")
    refused = call("editor", "POST", f"/api/v1/articles/{article_id}/archive")
    assert refused.status_code == 409 and "Edited in git." in refused.get_json()["disk_text"]
    disk_hash = refused.get_json()["disk_hash"]
    archived = call("editor", "POST", f"/api/v1/articles/{article_id}/archive", json={"base_hash": disk_hash})
    assert archived.status_code == 200 and archived.get_json()["article"]["state"] == "archived"
    assert "status: draft" in _file(api_app, "api-disk").read_text(encoding="utf-8")


def test_restore_saves_an_old_revision_as_the_newest(call):
    article_id = _draft(call, "api-restore")["article"]["id"]
    call("agent", "POST", f"/api/v1/articles/{article_id}/revisions",
         json={**FIELDS, "slug": "api-restore", "body": "Changed.\n", "base_revision": 1})
    restored = call("agent", "POST", f"/api/v1/articles/{article_id}/revisions/1/restore")
    assert restored.status_code == 201
    body = restored.get_json()
    assert body["latest"]["number"] == 3 and body["latest"]["body"] == BODY
    assert body["revisions"][0]["kind"] == "restore"
    assert call("agent", "POST", f"/api/v1/articles/{article_id}/revisions/9/restore").status_code == 404


def test_a_draft_from_a_ticket_is_linked_to_it(api_app, call):
    from tickets_helpers import STAFF, post
    client = api_app.test_client()
    reference = post(client, "contact", {"session_id": "s-api-ticket", "email": "u@example.com",
                                         "message": "How do I export everything?",
                                         "language": "en"}).get_json()["ticket"]["reference"]
    draft = call("agent", "POST", "/api/v1/articles",
                 json={**FIELDS, "slug": "api-from-ticket", "source_ticket": reference})
    assert draft.status_code == 201
    page = client.get(f"/api/v1/tickets/{reference}", headers=STAFF).get_json()
    assert [link["article"] for link in page["ticket"]["linked_articles"]] == ["en/api-from-ticket"]


def test_a_translation_names_the_source_revision_it_is_up_to_date_with(call):
    source = _draft(call, "api-source")["article"]
    assert call("editor", "POST", f"/api/v1/articles/{source['id']}/publish").status_code == 200
    created = call("agent", "POST", "/api/v1/articles", json={
        **FIELDS, "slug": "api-source", "language": "ru", "translation_key": "api-source",
        "source_article": source["id"], "source_revision": 1})
    assert created.status_code == 201, created.get_json()
    article = created.get_json()["article"]
    assert (article["source_article_id"], article["source_revision"]) == (source["id"], 1)
    refused = call("agent", "POST", f"/api/v1/articles/{article['id']}/revisions", json={
        **FIELDS, "slug": "api-source", "language": "ru", "translation_key": "api-source",
        "base_revision": 1, "source_article": source["id"], "source_revision": 7})
    assert refused.status_code == 400 and "source_revision" in refused.get_json()["error"]


ROUTES = [("POST", "/api/v1/articles", "edit"), ("POST", "/api/v1/articles/{id}/revisions", "edit"),
          ("POST", "/api/v1/articles/{id}/submit", "edit"), ("POST", "/api/v1/articles/{id}/publish", "publish"),
          ("POST", "/api/v1/articles/{id}/archive", "publish"),
          ("POST", "/api/v1/articles/{id}/revisions/1/restore", "edit")]


@pytest.fixture(scope="module")
def existing(api_app):
    client = api_app.test_client()
    response = client.post("/api/v1/articles", headers=bearer(api_app.tokens["agent"]),
                           json={**FIELDS, "slug": "api-roles"})
    return response.get_json()["article"]["id"]


@pytest.mark.parametrize("method, path, right", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_every_write_refuses_no_token_and_roles_without_the_right(call, existing, method, path, right):
    url = path.format(id=existing)
    assert call(None, method, url, json={}).status_code == 401
    assert call("analyst", method, url, json={}).status_code == 403
    if right == "publish":
        assert call("agent", method, url, json={}).status_code == 403
    assert call(None, "GET", f"/api/v1/articles/{existing}").status_code == 401


@pytest.mark.parametrize("path, payload, status, message", [
    ("/api/v1/articles", "not json", 400, "JSON object"),
    ("/api/v1/articles", {**FIELDS, "slug": "Bad Slug"}, 400, "invalid slug"),
    ("/api/v1/articles", {**FIELDS, "slug": "api-roles"}, 409, "already exists"),
    ("/api/v1/articles", {**FIELDS, "slug": "api-x", "language": "de"}, 400, "unknown language"),
    ("/api/v1/articles", {**FIELDS, "slug": "api-x", "source_ticket": "LZ-999999"}, 404, "no ticket"),
    ("/api/v1/articles", {**FIELDS, "slug": "api-x", "body": ["x"]}, 400, "'body' must be a string"),
    ("/api/v1/articles", {**FIELDS, "slug": "api-x", "tags": [1]}, 400, "list of strings"),
    ("/api/v1/articles/{id}/revisions", {**FIELDS, "slug": "api-roles"}, 400, "'base_revision' is required"),
    ("/api/v1/articles/{id}/revisions", {**FIELDS, "slug": "api-roles", "base_revision": "1"}, 400, "an integer"),
    ("/api/v1/articles/{id}/submit", {"base_revision": True}, 400, "an integer"),
    ("/api/v1/articles/{id}/publish", {"notify": "yes"}, 400, "true or false"),
    ("/api/v1/articles/{id}/publish", {"base_hash": "x" * 65}, 400, "longer than 64"),
    ("/api/v1/articles/{id}/archive", {}, 409, "only a published article"),
    ("/api/v1/articles/999999/submit", {}, 404, "no such article"),
    ("/api/v1/articles/{id}/revisions/99/restore", None, 404, "no revision 99"),
])
def test_bad_input_is_a_clear_4xx(call, existing, path, payload, status, message):
    kwargs = {"data": payload, "content_type": "application/json"} if isinstance(payload, str) \
        else ({} if payload is None else {"json": payload})
    response = call("editor", "POST", path.format(id=existing), **kwargs)
    assert response.status_code == status, response.get_json()
    assert message in response.get_json()["error"]
