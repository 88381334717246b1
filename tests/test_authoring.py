"""Authoring: articles and revisions in the database, KCS states, publishing to files with
conflict detection, files changed on disk becoming revisions, diffs, restore, uploads, drafts
from tickets; and every new route's role checks, CSRF and bad input."""
from __future__ import annotations

import re
import time

import pytest

from authoring_helpers import BODY, article_path, cheap_passwords, form, staff_client  # noqa: F401
from kb_server import create_app
from kb_server.authoring import files, store
from kb_server.authoring.fields import AuthoringError, Fields, from_form, validate
from kb_server.console import kcs
from kb_server.mail import conversation
from kb_server.extensions import db
from kb_server.models import ArticleRevision, AuditEntry, KbArticle, Ticket, TicketMessage
from conftest import app_config
from tickets_helpers import search

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _article(app, language="en", slug="export-data") -> KbArticle:
    return db.session.scalar(db.select(KbArticle).filter_by(language=language, slug=slug))


def _revisions(app, article_id: int) -> list[ArticleRevision]:
    return list(db.session.scalars(db.select(ArticleRevision).filter_by(article_id=article_id)
                                   .order_by(ArticleRevision.number)))


def _edit_page_hash(html: str) -> str:
    return re.search(r'name="base_hash" value="([0-9a-f]*)"', html).group(1)


# --- fields ------------------------------------------------------------------------------------
def test_fields_make_a_file_the_article_parser_reads_back(articles_dir):
    fields = from_form(form(title="Сброс: пароль", tags="a, b", urls="/x*\n/y*"), str(articles_dir))
    article = validate(fields)
    assert (article.title, article.tags, article.urls) == ("Сброс: пароль", ["a", "b"], ["/x*", "/y*"])
    assert article.body == BODY and article.status == "published"
    assert fields.translation_key == "export-data"


@pytest.mark.parametrize("overrides, message", [
    ({"slug": "Bad Slug"}, "invalid slug"),
    ({"language": "de"}, "unknown language"),
    ({"category": "nope"}, "unknown category"),
    ({"visibility": "secret"}, "'visibility'"),
    ({"title": ""}, "missing 'title'"),
    ({"title": "x" * 301}, "longer than 300"),
    ({"tags": ",".join(f"t{i}" for i in range(31))}, "at most 30"),
])
def test_bad_fields_are_refused_with_the_reason(articles_dir, overrides, message):
    with pytest.raises(AuthoringError, match=re.escape(message)):
        from_form(form(**overrides), str(articles_dir))


def test_a_new_article_starts_in_the_first_configured_category(app, articles_dir):
    """Not in "general", which categories.yml does not have (saving it was refused)."""
    editor = staff_client(app, "editor")
    page = editor.get("/console/articles/new").get_data(as_text=True)
    selected = re.findall(r'<option value="([^"]*)" selected>', page.split('name="category"')[1])
    assert selected[0] == "account" and 'value="general"' not in page
    assert from_form(form(category=""), str(articles_dir)).category == "account"
    refused = editor.post("/console/articles", data=form(category="general"))
    assert refused.status_code == 400 and "unknown category" in refused.get_data(as_text=True)
    (articles_dir / "categories.yml").unlink()                  # no categories: none
    assert from_form(form(category=""), str(articles_dir)).category == ""


# --- KCS workflow, publishing, search ----------------------------------------------------------
def test_agent_drafts_and_submits_editor_publishes_and_search_finds_it_within_2s(app):
    agent = staff_client(app, "agent")
    response = agent.post("/console/articles", data=form(action="submit"))
    assert response.status_code == 302
    with app.app_context():
        article = _article(app)
        assert article.state == "not_validated" and article.published_revision_id is None
    assert not article_path(app).exists()
    refused = agent.post(f"/console/articles/{article.id}", data=form(action="publish"))
    assert refused.status_code == 403 and not article_path(app).exists()

    editor = staff_client(app, "editor")
    page = editor.get(f"/console/articles/{article.id}").get_data(as_text=True)
    started = time.perf_counter()
    response = editor.post(f"/console/articles/{article.id}",
                           data=form(action="publish", base_hash=_edit_page_hash(page)))
    assert response.status_code == 302
    hits = editor.get("/api/v1/search?q=orbita+export+formats").get_json()["hits"]
    elapsed = time.perf_counter() - started
    assert hits and hits[0]["id"] == "en/export-data"
    assert elapsed < 2.0, elapsed
    text = article_path(app).read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: Export your data\n") and "status: published" in text
    assert text.endswith(BODY)
    with app.app_context():
        article = _article(app)
        rows = _revisions(app, article.id)
        assert article.state == "validated" and article.published_revision_id == rows[-1].id
        assert [r.author for r in rows] == ["agent@example.com"]   # the writer keeps the credit
        assert article.file_hash == files.digest(article_path(app).read_bytes())
        actions = [e.action for e in db.session.scalars(db.select(AuditEntry).filter_by(entity="article"))]
        assert actions == ["submit", "publish"]


def test_archive_takes_the_article_off_search_and_keeps_the_file(app):
    editor = staff_client(app, "editor")
    editor.post("/console/articles", data=form(action="publish"))
    with app.app_context():
        article = _article(app)
    assert editor.get("/api/v1/search?q=orbita+export+formats").get_json()["hits"]
    response = editor.post(f"/console/articles/{article.id}/archive", data={"base_hash": article.file_hash})
    assert response.status_code == 302
    assert "status: draft" in article_path(app).read_text(encoding="utf-8")
    hits = editor.get("/api/v1/search?q=orbita+export+formats").get_json()["hits"]
    assert "en/export-data" not in [h["id"] for h in hits]
    with app.app_context():
        assert _article(app).state == "archived"


def test_language_and_slug_are_fixed_once_published(app):
    editor = staff_client(app, "editor")
    editor.post("/console/articles", data=form(action="publish"))
    with app.app_context():
        article = _article(app)
    response = editor.post(f"/console/articles/{article.id}", data=form(slug="renamed"))
    assert response.status_code == 409
    assert "cannot change" in response.get_data(as_text=True)


def test_a_second_article_with_the_same_slug_is_refused(app):
    editor = staff_client(app, "editor")
    editor.post("/console/articles", data=form())
    response = editor.post("/console/articles", data=form(title="Other"))
    assert response.status_code == 409 and "already exists" in response.get_data(as_text=True)


# --- files on disk -----------------------------------------------------------------------------
def test_sync_imports_files_and_turns_a_changed_file_into_a_revision(app):
    with app.app_context():
        report = files.sync_from_files(app.config["ARTICLES_DIR"])
        assert "en/reset-password.md" in report.imported and not report.errors
        assert files.sync_from_files(app.config["ARTICLES_DIR"]).changed is False
        path = article_path(app, "en", "reset-password")
        path.write_text(path.read_text(encoding="utf-8") + "\nA new paragraph from git.\n",
                        encoding="utf-8")
        report = files.sync_from_files(app.config["ARTICLES_DIR"])
        assert report.updated == ["en/reset-password.md"]
        article = _article(app, "en", "reset-password")
        rows = _revisions(app, article.id)
        assert [(r.kind, r.author) for r in rows] == [("file", "file"), ("file", "file")]
        assert rows[-1].body.endswith("A new paragraph from git.\n")
        assert article.published_revision_id == rows[-1].id and article.state == "validated"


def test_a_file_deleted_on_disk_archives_its_article_and_keeps_its_history(app):
    with app.app_context():
        files.sync_from_files(app.config["ARTICLES_DIR"])
        article_path(app, "en", "reset-password").unlink()
        report = files.sync_from_files(app.config["ARTICLES_DIR"])
        assert report.archived == ["en/reset-password.md"] and report.changed
        article = _article(app, "en", "reset-password")
        rows = _revisions(app, article.id)
        assert article.state == "archived" and rows[-1].note == "deleted on disk: en/reset-password.md"
        assert rows[-1].body == rows[-2].body                     # the text stays to restore
        assert db.session.scalar(db.select(AuditEntry).filter_by(
            entity="article", entity_id="en/reset-password", action="file_deleted")) is not None
        assert files.sync_from_files(app.config["ARTICLES_DIR"]).changed is False   # once


def test_sync_reports_a_broken_file_and_leaves_it_alone(app):
    path = article_path(app, "en", "broken")
    path.write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    with app.app_context():
        report = files.sync_from_files(app.config["ARTICLES_DIR"])
        assert any(e.startswith("en/broken.md:") for e in report.errors)
        assert _article(app, "en", "broken") is None


def test_a_file_changed_since_the_editor_opened_it_is_a_conflict_never_overwritten(app):
    editor = staff_client(app, "editor")
    editor.post("/console/articles", data=form(action="publish"))
    with app.app_context():
        article_id = _article(app).id
    page = editor.get(f"/console/articles/{article_id}").get_data(as_text=True)
    base = _edit_page_hash(page)
    path = article_path(app)
    on_disk = path.read_text(encoding="utf-8").replace("Export everything", "Someone edited this in git")
    path.write_text(on_disk, encoding="utf-8")

    response = editor.post(f"/console/articles/{article_id}",
                           data=form(action="publish", base_hash=base, body=BODY + "\nMine.\n"))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "The file changed on disk" in html
    assert "<del>Someone edited this in git</del>" in html          # the words that differ
    assert "<ins>Export everything</ins>" in html and "<ins>Mine.</ins>" in html
    assert path.read_text(encoding="utf-8") == on_disk              # not overwritten
    with app.app_context():
        latest = store.latest(_article(app))
        assert latest.body.endswith("Mine.\n") and latest.state == "work_in_progress"

    # the editor decides: publish theirs over the file (the form now carries the file's hash)
    response = editor.post(f"/console/articles/{article_id}",
                           data=form(action="publish", base_hash=_edit_page_hash(html),
                                     body=BODY + "\nMine.\n"))
    assert response.status_code == 302
    assert path.read_text(encoding="utf-8").endswith("Mine.\n")


def test_taking_the_files_version_makes_it_the_newest_revision(app):
    editor = staff_client(app, "editor")
    editor.post("/console/articles", data=form(action="publish"))
    with app.app_context():
        article_id = _article(app).id
    path = article_path(app)
    path.write_text(path.read_text(encoding="utf-8") + "\nFrom git.\n", encoding="utf-8")
    response = editor.post(f"/console/articles/{article_id}/take-file")
    assert response.status_code == 302
    with app.app_context():
        latest = store.latest(_article(app))
        assert latest.kind == "file" and latest.body.endswith("From git.\n")


# --- revisions ---------------------------------------------------------------------------------
def test_every_save_is_a_revision_autosaves_collapse_diff_and_restore(app):
    editor = staff_client(app, "editor")
    editor.post("/console/articles", data=form(body="First version.\n"))
    with app.app_context():
        article_id = _article(app).id
    for text in ("Second, typing", "Second, typing more"):
        response = editor.post("/console/articles/autosave",
                               json={**form(body=text + "\n"), "article_id": article_id})
        assert response.status_code == 200, response.get_json()
    editor.post(f"/console/articles/{article_id}", data=form(body="Third version.\n", note="why"))
    with app.app_context():
        rows = _revisions(app, article_id)
        assert [(r.number, r.kind) for r in rows] == [(1, "save"), (2, "autosave"), (3, "save")]
        assert rows[1].body == "Second, typing more\n" and rows[2].note == "why"

    diff = editor.get(f"/console/articles/{article_id}/revisions?a=1&b=3").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", "", diff).replace("&nbsp;", " ")
    assert 'class="diff diff-words"' in diff
    assert "<del>First</del> version." in diff and "<ins>Third</ins> version." in diff
    assert "First version." in text and "Third version." in text

    response = editor.post(f"/console/articles/{article_id}/revisions/1/restore")
    assert response.status_code == 302
    with app.app_context():
        rows = _revisions(app, article_id)
        assert (rows[-1].number, rows[-1].kind, rows[-1].body) == (4, "restore", "First version.\n")


def test_diff_escapes_what_the_revisions_contain(app):
    editor = staff_client(app, "editor")
    editor.post("/console/articles", data=form(body="plain\n"))
    with app.app_context():
        article_id = _article(app).id
    editor.post(f"/console/articles/{article_id}", data=form(body="<script>alert(1)</script>\n"))
    html = editor.get(f"/console/articles/{article_id}/revisions?a=1&b=2").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_the_diff_marks_changed_words_side_by_side_with_context():
    from kb_server.authoring import diff
    old = "\n".join(["# Title"] + [f"line {n}" for n in range(1, 11)] + ["Limit: 2 GB per file."])
    new = old.replace("line 2", "line two").replace("2 GB per file.", "4 GB per file, 10 in all.")
    rows = diff.rows(old, new + "\nAdded.")
    assert [r.kind for r in rows] == ["same", "same", "change", "same", "same", "same", "gap",
                                      "same", "same", "same", "change", "insert"]
    assert (rows[2].old, rows[2].new) == ("line <del>2</del>", "line <ins>two</ins>")
    change = rows[-2]
    assert (change.old_number, change.new_number) == (12, 12)
    assert change.old == "Limit: <del>2</del> GB per file."
    assert change.new == "Limit: <ins>4</ins> GB per file<ins>, 10 in all</ins>."
    assert rows[-1].new == "<ins>Added.</ins>" and rows[-1].old == ""
    assert [r.kind for r in diff.rows("a\nb\n", "b\n")] == ["delete", "same"]
    table = diff.side_by_side("x <b>", "y <b>", ("<old>", "new"), same="Same.")
    assert "&lt;old&gt;" in table and "<del>x</del> &lt;b&gt;" in table and "<ins>y</ins>" in table
    assert "Same." in diff.side_by_side("same\n", "same\n", ("a", "b"), same="Same.")


# --- preview -----------------------------------------------------------------------------------
def test_preview_renders_and_sanitizes_as_the_help_center(app):
    editor = staff_client(app, "editor")
    response = editor.post("/console/articles/preview",
                           json={"body": BODY + "\n<script>alert(1)</script>\n[x](javascript:alert(1))\n"})
    html = response.get_json()["html"]
    assert response.status_code == 200
    assert "<table>" in html and "<pre><code" in html and 'id="formats"' in html
    assert "<script" not in html and "javascript:" not in html


# --- from a ticket -----------------------------------------------------------------------------
def _gap_ticket(app) -> str:
    client = app.test_client()
    for session, query in (("s1", "export my data zzqx"), ("s2", "export all my data zzqx")):
        search(client, session, query, [], language="en")
    with app.app_context():
        ticket = db.session.scalar(db.select(Ticket).filter_by(kind="gap"))
        return ticket.reference


def test_new_article_from_a_gap_ticket_is_prefilled_and_publishing_answers_the_gap(app):
    from tickets_helpers import post
    reference = _gap_ticket(app)
    contact = post(app.test_client(), "contact", {"session_id": "s1", "email": "a@example.com",
                                                  "message": "How do I export my data?",
                                                  "language": "en"}).get_json()["ticket"]["reference"]
    editor = staff_client(app, "editor")
    page = editor.get(f"/console/articles/new?ticket={reference}").get_data(as_text=True)
    assert "export my data zzqx" in page and "export all my data zzqx" in page
    assert f'name="source_ticket" value="{reference}"' in page
    editor.post("/console/articles", data=form(source_ticket=reference))
    with app.app_context():
        ticket = db.session.scalar(db.select(Ticket).filter_by(reference=reference))
        assert _article(app).source_ticket_id == ticket.id and ticket.status != "resolved"
        article_id = _article(app).id
        # KCS: the draft is linked to its ticket from the start
        assert [(l.article_slug, l.relation) for l in kcs.links(ticket)] == [("export-data", "created_from")]
    assert 'name="notify"' in editor.get(f"/console/articles/{article_id}").get_data(as_text=True)
    editor.post(f"/console/articles/{article_id}", data=form(action="publish", notify="on"))
    with app.app_context():
        ticket = db.session.scalar(db.select(Ticket).filter_by(reference=reference))
        assert ticket.status == "resolved" and ticket.resolved_at is not None
        entry = db.session.scalar(db.select(AuditEntry).filter_by(entity="ticket", entity_id=reference,
                                                                   action="gap_answered"))
        assert entry.after["article"] == "en/export-data" and entry.after["notified"] == [contact]
        note = db.session.scalar(db.select(TicketMessage).filter_by(ticket_id=ticket.id, kind="system"))
        assert "en/export-data" in note.body
        assert sorted((link.article_slug, link.relation) for link in kcs.links(ticket)) == [
            ("export-data", "created_from"), ("export-data", "resolved_with")]
        told = db.session.scalar(db.select(Ticket).filter_by(reference=contact))
        assert "/a/en/export-data" in conversation.messages(told)[-1].body     # e-mailed
        assert kcs.link_rate()["linked"] == 1
    analyst = staff_client(app, "analyst")
    [gap] = analyst.get("/api/v1/analytics/gaps").get_json()["gaps"]
    assert (gap["reference"], gap["answered"]) == (reference, True)
    assert gap["answered_by"] == {"article_id": "en/export-data", "title": "Export your data"}


def test_the_ticket_page_links_to_writing_an_article_from_it_for_those_who_may(app):
    reference = _gap_ticket(app)
    link = f'href="/console/articles/new?ticket={reference}"'
    assert link in staff_client(app, "agent").get(f"/console/t/{reference}").get_data(as_text=True)
    assert link not in staff_client(app, "analyst").get(f"/console/t/{reference}").get_data(as_text=True)


def test_new_article_from_a_contact_ticket_quotes_the_question_and_the_last_reply(app, client):
    from tickets_helpers import post
    reference = post(client, "contact", {"session_id": "c1", "email": "a@example.com",
                                         "message": "How do I export my data?",
                                         "language": "en"}).get_json()["ticket"]["reference"]
    with app.app_context():
        ticket = db.session.scalar(db.select(Ticket).filter_by(reference=reference))
        db.session.add(TicketMessage(ticket_id=ticket.id, kind="reply", body="Use Settings > Export."))
        db.session.commit()
        ticket_id = ticket.id
    editor = staff_client(app, "editor")
    page = editor.get(f"/console/articles/new?ticket={ticket_id}").get_data(as_text=True)
    assert "&gt; How do I export my data?" in page and "Use Settings &gt; Export." in page
    assert editor.get("/console/articles/new?ticket=LZ-999999").status_code == 404


# --- uploads -----------------------------------------------------------------------------------
def test_an_image_upload_is_served_inline_with_its_sniffed_type(app):
    editor = staff_client(app, "editor")
    from io import BytesIO
    response = editor.post("/console/articles/uploads",
                           data={"file": (BytesIO(PNG), "shot.exe")}, content_type="multipart/form-data")
    data = response.get_json()
    assert response.status_code == 201 and data["content_type"] == "image/png"
    assert data["markdown"] == f"![shot.exe]({data['url']})"
    served = editor.get(data["url"])
    assert served.status_code == 200 and served.data == PNG
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert "attachment" not in served.headers.get("Content-Disposition", "")


def test_an_upload_is_public_only_while_a_published_public_article_links_it(app):
    from io import BytesIO
    editor = staff_client(app, "editor")
    url = editor.post("/console/articles/uploads", data={"file": (BytesIO(PNG), "s.png")},
                      content_type="multipart/form-data").get_json()["url"]
    anonymous, analyst = app.test_client(), staff_client(app, "analyst")
    body = f"{BODY}\n![shot]({url})\n"
    editor.post("/console/articles", data=form(body=body))              # a draft links it
    assert anonymous.get(url).status_code == 404
    staff = analyst.get(url)
    assert staff.status_code == 200 and "no-store" in staff.headers["Cache-Control"]
    with app.app_context():
        article_id = _article(app).id
    editor.post(f"/console/articles/{article_id}", data=form(body=body, action="publish"))
    public = anonymous.get(url)
    assert public.status_code == 200 and public.data == PNG
    assert "max-age=86400" in public.headers["Cache-Control"]
    page = editor.get(f"/console/articles/{article_id}").get_data(as_text=True)
    editor.post(f"/console/articles/{article_id}", data=form(body=body, visibility="internal",
                                                            action="publish", base_hash=_edit_page_hash(page)))
    assert anonymous.get(url).status_code == 404                          # internal now
    page = editor.get(f"/console/articles/{article_id}").get_data(as_text=True)
    editor.post(f"/console/articles/{article_id}", data=form(body=body, action="publish",
                                                            base_hash=_edit_page_hash(page)))
    assert anonymous.get(url).status_code == 200
    page = editor.get(f"/console/articles/{article_id}").get_data(as_text=True)
    editor.post(f"/console/articles/{article_id}/archive", data={"base_hash": _edit_page_hash(page)})
    assert anonymous.get(url).status_code == 404                          # archived
    assert anonymous.get("/media/nope.png").status_code == 404


def test_an_upload_larger_than_the_public_request_limit_is_accepted(app):
    from io import BytesIO
    big = PNG + b"\0" * (app.config["MAX_CONTENT_LENGTH"] * 2)
    response = staff_client(app, "editor").post(
        "/console/articles/uploads", data={"file": (BytesIO(big), "big.png")},
        content_type="multipart/form-data")
    assert response.status_code == 201 and response.get_json()["size"] == len(big)
    assert app.test_client().post("/api/v1/events", data=big).status_code == 413   # still limited


def test_a_pdf_is_served_as_an_attachment(app):
    editor = staff_client(app, "editor")
    from io import BytesIO
    data = editor.post("/console/articles/uploads", data={"file": (BytesIO(b"%PDF-1.4 x"), "guide.pdf")},
                       content_type="multipart/form-data").get_json()
    served = editor.get(data["url"])
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("content, status", [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", 201),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\xff\xfe", 415),
    (b"", 400),
])
def test_uploads_accept_only_known_types(app, content, status):
    from io import BytesIO
    editor = staff_client(app, "editor")
    response = editor.post("/console/articles/uploads", data={"file": (BytesIO(content), "x.svg")},
                           content_type="multipart/form-data")
    assert response.status_code == status
    if status == 201:   # SVG text is accepted only as plain text: never rendered as an image
        served = editor.get(response.get_json()["url"])
        assert served.headers["Content-Type"].startswith("text/plain")
        assert served.headers["Content-Disposition"].startswith("attachment")


def test_an_upload_over_the_limit_is_refused(tmp_path, template):
    import shutil
    from io import BytesIO
    shutil.copytree(template / "index", tmp_path / "index")
    shutil.copy2(template / "test.db", tmp_path / "test.db")
    from search_helpers import copy_fixture_kb
    copy_fixture_kb(tmp_path / "articles")
    app = create_app(app_config(tmp_path, UPLOAD_MAX_BYTES=1000))
    editor = staff_client(app, "editor")
    response = editor.post("/console/articles/uploads", data={"file": (BytesIO(PNG + b"\0" * 2000), "big.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 413 and "larger than" in response.get_json()["error"]


# --- list --------------------------------------------------------------------------------------
def test_the_list_filters_by_language_state_and_text(app):
    editor = staff_client(app, "editor")
    editor.post("/console/articles", data=form())
    page = editor.get("/console/articles?language=ru").get_data(as_text=True)
    assert 'data-article="ru/reset-password"' in page and 'data-article="en/reset-password"' not in page
    page = editor.get("/console/articles?state=work_in_progress").get_data(as_text=True)
    # a status: draft file is work in progress too
    assert set(re.findall(r'data-article="([^"]+)"', page)) == {"en/export-data", "en/draft-plans"}
    page = editor.get("/console/articles?q=invoice").get_data(as_text=True)
    assert set(re.findall(r'data-article="([^"]+)"', page)) == {"en/download-invoices", "ru/download-invoices"}


def test_the_list_flags_articles_readers_found_not_helpful(app, client):
    from tickets_helpers import post
    editor = staff_client(app, "editor")
    editor.get("/console/articles")
    post(client, "feedback", {"session_id": "f1", "article_id": "en/two-factor", "helpful": False,
                              "reason": "unclear"})
    page = editor.get("/console/articles?flag=flagged").get_data(as_text=True)
    assert re.findall(r'data-article="([^"]+)"', page) == ["en/two-factor"]


def test_not_helpful_votes_count_since_the_last_publish(app):
    import datetime as dt
    from kb_server.authoring import listing
    from kb_server.models import Event, utcnow
    now = utcnow()
    with app.app_context():
        files.sync_from_files(app.config["ARTICLES_DIR"])
        article = _article(app, "en", "two-factor")
        article.published_at = now - dt.timedelta(days=1)
        votes = [("en/two-factor", False, 2), ("en/two-factor", False, 0), ("en/two-factor", True, 0),
                 ("en/two-factor", False, 0), ("en/unknown", False, 5), ("en/unknown", None, 0)]
        db.session.add_all(Event(kind="feedback", session_id="v", article_id=article_id,
                                 data={} if helpful is None else {"helpful": helpful},
                                 created_at=now - dt.timedelta(days=days_ago))
                           for article_id, helpful, days_ago in votes)
        db.session.add(Event(kind="view", session_id="v", article_id="en/two-factor",
                             data={"helpful": False}, created_at=now))
        db.session.commit()
        assert listing.not_helpful_counts() == {"en/two-factor": 2, "en/unknown": 1}


# --- rights, CSRF, bad input -------------------------------------------------------------------
ROUTES = [  # (method, path, the least role allowed)
    ("get", "/console/articles", "analyst"),
    ("get", "/console/articles/new", "agent"),
    ("post", "/console/articles", "agent"),
    ("get", "/console/articles/{id}", "agent"),
    ("post", "/console/articles/{id}", "agent"),
    ("post", "/console/articles/{id}/archive", "editor"),
    ("post", "/console/articles/{id}/take-file", "agent"),
    ("get", "/console/articles/{id}/revisions", "analyst"),
    ("post", "/console/articles/{id}/revisions/1/restore", "agent"),
    ("post", "/console/articles/preview", "agent"),
    ("post", "/console/articles/autosave", "agent"),
    ("post", "/console/articles/uploads", "agent"),
]
JSON_ROUTES = {"/console/articles/preview", "/console/articles/autosave", "/console/articles/uploads"}
RANK = {"analyst": 0, "agent": 1, "editor": 2}


@pytest.fixture
def existing(app):
    editor = staff_client(app, "editor", "owner@example.com")
    editor.post("/console/articles", data=form())
    with app.app_context():
        return _article(app).id


def test_every_route_refuses_anonymous_and_lower_roles(app, existing):
    anonymous = app.test_client()
    lower = {role: staff_client(app, role) for role in ("analyst", "agent")}
    for method, path, least in ROUTES:
        path = path.format(id=existing)
        response = getattr(anonymous, method)(path)
        if path in JSON_ROUTES:
            assert response.status_code == 401 and response.is_json, path
        else:
            assert response.status_code == 302, path
            assert "/console/login" in response.headers["Location"]
        for role, client in lower.items():
            if RANK[role] >= RANK[least]:
                continue
            response = getattr(client, method)(path)
            assert response.status_code == 403, (role, path)
            assert response.is_json == (path in JSON_ROUTES), (role, path)


def test_agents_cannot_publish_through_the_save_form(app, existing):
    response = staff_client(app, "agent").post(f"/console/articles/{existing}", data=form(action="publish"))
    assert response.status_code == 403


@pytest.mark.parametrize("method, path, kwargs, status", [
    ("post", "/console/articles", {"data": form(slug="Bad Slug")}, 400),
    ("post", "/console/articles", {"data": form(action="delete")}, 400),
    ("post", "/console/articles/preview", {"data": "not json", "content_type": "text/plain"}, 400),
    ("post", "/console/articles/preview", {"json": {"body": 5}}, 400),
    ("post", "/console/articles/preview", {"json": {"body": "x" * 200_001}}, 400),
    ("post", "/console/articles/autosave", {"json": {**form(), "article_id": "999999"}}, 404),
    ("post", "/console/articles/autosave", {"json": {**form(), "language": "xx"}}, 400),
    ("post", "/console/articles/uploads", {"data": {}}, 400),
    ("get", "/console/articles/999999", {}, 404),
    ("get", "/console/articles/{id}/revisions?a=x&b=1", {}, 400),
    ("get", "/console/articles/{id}/revisions?a=1&b=99", {}, 404),
    ("post", "/console/articles/{id}/revisions/99/restore", {}, 404),
    ("post", "/console/articles/{id}/archive", {}, 302),     # not published: refused with a message
])
def test_bad_input_is_a_clear_4xx(app, existing, method, path, kwargs, status):
    editor = staff_client(app, "editor")
    response = getattr(editor, method)(path.format(id=existing), **kwargs)
    assert response.status_code == status
    if path in JSON_ROUTES:
        assert response.get_json()["error"]


def test_forms_and_json_endpoints_need_the_csrf_token(tmp_path, template):
    import shutil
    from search_helpers import copy_fixture_kb
    shutil.copytree(template / "index", tmp_path / "index")
    shutil.copy2(template / "test.db", tmp_path / "test.db")
    copy_fixture_kb(tmp_path / "articles")
    app = create_app(app_config(tmp_path, WTF_CSRF_ENABLED=True))
    with app.app_context():
        from staff_helpers import add_staff
        add_staff("ed@example.com", "editor")
    client = app.test_client()
    login_page = client.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    client.post("/console/login", data={"email": "ed@example.com", "password": "correct horse battery",
                                        "csrf_token": token})
    page = client.get("/console/articles/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/console/articles", data=form()).status_code == 400
    assert client.post("/console/articles/preview", json={"body": "x"}).status_code == 400
    assert client.post("/console/articles/preview", json={"body": "*x*"},
                       headers={"X-CSRFToken": token}).get_json()["html"] == "<p><em>x</em></p>"
    assert client.post("/console/articles", data={**form(), "csrf_token": token}).status_code == 302


def test_a_translation_starts_from_the_source_and_the_versions_are_linked(app):
    editor = staff_client(app, "editor")
    editor.post("/console/articles", data=form(action="publish"))
    with app.app_context():
        source_id = _article(app).id
    page = editor.get(f"/console/articles/{source_id}").get_data(as_text=True)
    link = re.search(r'href="(/console/articles/new\?language=ru[^"]*)"', page).group(1)
    draft = editor.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert 'name="translation_key" value="export-data"' in draft and "orbita export --all" in draft
    assert 'data-source><h1 class="source-title">Export your data</h1>' in draft   # source beside
    assert re.search(r'<option value="ru"\s+selected>', draft)
    hidden = dict(re.findall(r'name="(source_article|source_revision)" value="(\d+)"', draft))
    assert hidden == {"source_article": str(source_id), "source_revision": "1"}
    editor.post("/console/articles", data=form(language="ru", title="Экспорт данных", **hidden))
    page = editor.get(f"/console/articles/{source_id}").get_data(as_text=True)
    assert "Экспорт данных" in page          # the linked Russian version
    assert page.count("Translate</a>") == 1   # only Ukrainian is missing
    assert "data-outdated" not in page
    with app.app_context():
        russian = _article(app, "ru", "export-data")
        assert (russian.source_article_id, russian.source_revision) == (source_id, 1)
    # the source publishes a new revision: the translation is outdated, by revision not date
    page = editor.get(f"/console/articles/{source_id}").get_data(as_text=True)
    editor.post(f"/console/articles/{source_id}", data=form(action="publish", body=BODY + "\nMore.\n",
                                                           base_hash=_edit_page_hash(page)))
    page = editor.get(f"/console/articles/{source_id}").get_data(as_text=True)
    assert re.search(r'data-outdated title="translated from EN revision 1; the source has published revision 2"', page)
    page = editor.get(f"/console/articles/{russian.id}").get_data(as_text=True)
    assert "data-outdated-self" in page and "source_revision" not in page   # no source beside
    page = editor.get(f"/console/articles/{russian.id}?beside={source_id}").get_data(as_text=True)
    hidden = dict(re.findall(r'name="(source_article|source_revision)" value="(\d+)"', page))
    assert hidden == {"source_article": str(source_id), "source_revision": "2"}
    editor.post(f"/console/articles/{russian.id}", data=form(language="ru", title="Экспорт данных", **hidden))
    assert "data-outdated" not in editor.get(f"/console/articles/{source_id}").get_data(as_text=True)
    # the source opened beside its own translation does not become a translation of it
    page = editor.get(f"/console/articles/{source_id}?beside={russian.id}").get_data(as_text=True)
    assert 'name="source_article"' not in page
    page = editor.get(f"/console/articles/{russian.id}?beside={source_id}").get_data(as_text=True)
    assert 'lang="en" data-source>' in page
    editor.post("/console/articles", data=form(slug="other", title="Other"))
    with app.app_context():
        other_id = _article(app, "en", "other").id
    for beside in (other_id, 999999):          # not a version of this article, no article
        page = editor.get(f"/console/articles/{russian.id}?beside={beside}").get_data(as_text=True)
        assert "data-source>" not in page


def test_sync_of_a_file_holding_the_latest_revision_adds_no_revision(app):
    """A publish in one process and the poller in another may both see the new file."""
    editor = staff_client(app, "editor")
    editor.post("/console/articles", data=form(action="publish"))
    with app.app_context():
        article = _article(app)
        article.file_hash = ""           # as if the poller read the file before the commit
        db.session.commit()
        files._seen.clear()
        assert files.sync_from_files(app.config["ARTICLES_DIR"]).updated == []
        assert len(_revisions(app, article.id)) == 1
        assert _article(app).file_hash == files.digest(article_path(app).read_bytes())


def test_the_background_sync_picks_up_a_file_change_and_reindexes(app):
    import threading
    with app.app_context():
        files.sync_from_files(app.config["ARTICLES_DIR"])
    path = article_path(app, "en", "two-factor")
    path.write_text(path.read_text(encoding="utf-8") + "\nQuokkaword appears here.\n", encoding="utf-8")
    stop = threading.Event()
    thread = files.start_background_sync(app, 0.05, stop)
    deadline = time.monotonic() + 10
    with app.app_context():
        while time.monotonic() < deadline:
            hits = app.test_client().get("/api/v1/search?q=quokkaword").get_json()["hits"]
            if hits:
                break
            time.sleep(0.1)
        stop.set()
        thread.join(5)
        assert hits and hits[0]["id"] == "en/two-factor"
        assert store.latest(_article(app, "en", "two-factor")).kind == "file"
    assert files.start_background_sync(app, 0) is None


def test_a_scheduled_publish_happens_when_due_and_sets_the_review_date(app):
    import datetime as dt
    from kb_server.authoring import publishing
    from kb_server.models import utcnow
    editor = staff_client(app, "editor")
    editor.post("/console/articles", data=form())
    with app.app_context():
        article_id = _article(app).id
    assert editor.post(f"/console/articles/{article_id}",
                       data=form(action="schedule", publish_at="2020-01-01T10:00")).status_code == 400
    assert editor.post(f"/console/articles/{article_id}",
                       data=form(action="schedule", publish_at="soon")).status_code == 400
    assert staff_client(app, "agent").post(
        f"/console/articles/{article_id}", data=form(action="schedule", publish_at="2999-01-01T10:00")
    ).status_code == 403
    when = (utcnow() + dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    response = editor.post(f"/console/articles/{article_id}",
                           data=form(action="schedule", publish_at=when.strftime("%Y-%m-%dT%H:%M")))
    assert response.status_code == 302 and not article_path(app).exists()
    with app.app_context():
        assert publishing.publish_due(when - dt.timedelta(minutes=1)) == []
        assert publishing.publish_due(when) == ["en/export-data"]
        article = _article(app)
        assert article.state == "validated" and article.publish_at is None
        assert article.review_due - article.published_at == dt.timedelta(days=365)
    assert "status: published" in article_path(app).read_text(encoding="utf-8")
    page = editor.get("/console/articles?flag=review").get_data(as_text=True)
    assert "en/export-data" not in page
    with app.app_context():
        _article(app).review_due = utcnow() - dt.timedelta(days=1)
        db.session.commit()
    page = editor.get("/console/articles?flag=review").get_data(as_text=True)
    assert re.findall(r'data-article="([^"]+)"', page) == ["en/export-data"]


def test_a_scheduled_publish_whose_file_changed_is_cancelled_not_forced(app):
    import datetime as dt
    from kb_server.authoring import publishing
    from kb_server.models import utcnow
    editor = staff_client(app, "editor")
    editor.post("/console/articles", data=form())
    with app.app_context():
        article_id = _article(app).id
    when = utcnow() + dt.timedelta(hours=1)
    editor.post(f"/console/articles/{article_id}",
                data=form(action="schedule", publish_at=when.strftime("%Y-%m-%dT%H:%M")))
    article_path(app).write_text("---\ntitle: Someone else's\n---\nTheirs.\n", encoding="utf-8")
    with app.app_context():
        assert publishing.publish_due(when + dt.timedelta(minutes=5)) == []
        assert _article(app).publish_at is None
        assert db.session.scalar(db.select(AuditEntry).filter_by(action="schedule_failed")) is not None
    assert article_path(app).read_text(encoding="utf-8").endswith("Theirs.\n")


def test_the_staff_api_lists_articles_and_shows_one_with_its_revisions(app):
    from staff_helpers import add_staff, bearer
    with app.app_context():
        files.sync_from_files(app.config["ARTICLES_DIR"])
        analyst = add_staff("reader@example.com", "analyst")
    client = app.test_client()
    listed = client.get("/api/v1/articles?language=en&q=password", headers=bearer(analyst)).get_json()
    [row] = [a for a in listed["articles"] if a["article"] == "en/reset-password"]
    assert row["state"] == "validated" and row["published"] and listed["total"] >= 1
    one = client.get(f"/api/v1/articles/{row['id']}", headers=bearer(analyst)).get_json()
    assert one["article"]["title"] == row["title"] and "## " in one["latest"]["body"]
    assert [(r["number"], r["kind"], r["author"]) for r in one["revisions"]] == [(1, "file", "file")]
    assert client.get("/api/v1/articles").status_code == 401
    assert client.get("/api/v1/articles/999999", headers=bearer(analyst)).status_code == 404
    assert client.get("/api/v1/articles?page=x", headers=bearer(analyst)).status_code == 400
