"""Authoring pages of the staff console (``/console/articles``) and the uploaded files they
serve (``/media/<name>``). Routes live on the console blueprint (its login, CSRF, strings and
error pages); the logic is in ``kb_server.authoring``.

| route | right | what |
|---|---|---|
| ``GET /console/articles`` | articles.view | list, filters, search (syncs changed files first) |
| ``GET /console/articles/new[?ticket=REF]`` | articles.edit | editor for a new article |
| ``POST /console/articles``, ``POST /console/articles/<id>`` | articles.edit (publish: articles.publish) | save / submit / publish |
| ``POST /console/articles/<id>/archive`` | articles.publish | off the help center |
| ``POST /console/articles/<id>/take-file`` | articles.edit | conflict: the file's version becomes a revision |
| ``GET /console/articles/<id>/revisions[?a=N&b=M]`` | articles.view | history and side-by-side diff |
| ``POST /console/articles/<id>/revisions/<n>/restore`` | articles.edit | restore as a new revision |
| ``POST /console/articles/autosave``, ``/preview``, ``/uploads`` | articles.edit | JSON for the editor's script |
"""
from __future__ import annotations

import datetime as dt
import functools

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template,
                   request, send_file, send_from_directory, url_for)
from flask_login import current_user

from indexer.articles import Article
from indexer.articles.links import rewrite_urls
from indexer.articles.parser import SLUG_RE
from indexer.catalog import load_categories
from indexer.languages import LANGUAGES
from indexer.render import Rendered, render_markdown
from kb_server import auth, i18n
from kb_server.authoring import diff, listing, prefill, publishing, store, uploads
from kb_server.authoring.fields import (MAX_BODY, AuthoringError, Fields, default_category,
                                       from_form, from_revision)
from kb_server.console import strings
from kb_server.console.queue import ROW_ID_MAX
from kb_server.extensions import db, public_limit
from kb_server.jsonapi import error_response
from kb_server.models import KbArticle, Ticket, User, utcnow
from kb_server.models.articles import STATES
from kb_server.views.console import bp

media_bp = Blueprint("media", __name__)
ARTICLE = f"/articles/<int(max={ROW_ID_MAX}):article_id>"
SAVE_ACTIONS = ("save", "submit", "schedule", "publish")
PUBLISHING = ("schedule", "publish")


def json_page(capability: str):
    """Decorator of the editor's JSON endpoints: a console session (401) with the right (403);
    an ``AuthoringError`` rolls the session back and answers as ``_refused``."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return _refused(AuthoringError("err_sign_in_first", 401))
            if not auth.can(current_user, capability):
                return _refused(AuthoringError("err_your_role", 403))
            try:
                return view(*args, **kwargs)
            except AuthoringError as exc:
                db.session.rollback()
                return _refused(exc)
        return wrapper
    return decorator


def _refused(exc: AuthoringError):
    """The editor's JSON error: ``error`` in English as every JSON endpoint, ``message`` in the
    console's language for the editor to show."""
    return error_response(exc.message, exc.status, message=strings.say(exc))


def _article_or_404(article_id: int) -> KbArticle:
    return store.get(article_id) or abort(404)


def _articles_dir() -> str:
    return current_app.config["ARTICLES_DIR"]


# --- list --------------------------------------------------------------------------------------
@bp.get("/articles")
@auth.staff_page("articles.view")
def articles_page():
    report = publishing.sync_files(_articles_dir())
    filters = listing.parse(request.args)
    try:
        page = max(1, min(int(request.args.get("page", 1)), 1000))
    except ValueError:
        page = 1
    rows, total, flagged = listing.find(filters, page)
    return render_template(
        "console/articles.html", filters=filters.__dict__, articles=rows, total=total,
        page=page, pages=max(1, -(-total // listing.PER_PAGE)), flagged=flagged,
        menus=_filter_menus(), stale_before=listing.stale_before(), sync_errors=report.errors,
        category_names=_category_names(), now=utcnow())


def _category_names() -> dict[str, str]:
    """Category id -> its name in the UI language (categories.yml; English, else the id)."""
    language = i18n.ui_language()
    return {key: names.get(language) or names.get("en") or key
            for key, names in load_categories(_articles_dir()).items()}


def _filter_menus() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(field, label, [(value, text)]) of the list's filter menus."""
    t = strings.translate
    facets = listing.facets()
    authors = db.session.scalars(db.select(User).order_by(User.email))
    return [
        ("language", t("language"), [(v, v.upper()) for v in facets["language"]]),
        ("category", t("category"), [(v, _category_names().get(v, v)) for v in facets["category"]]),
        ("state", t("state"), [(v, t("state_" + v)) for v in STATES]),
        ("author", t("author"), [(str(u.id), u.display_name) for u in authors]),
        ("updated", t("updated_within"),
         [(v, t("within_days", n=v)) for v in listing.UPDATED_WITHIN]),
        ("flag", t("flags"), [(v, t("flag_" + v)) for v in listing.FLAGS]),
    ]


# --- editor ------------------------------------------------------------------------------------
def _editor(fields: Fields, article: KbArticle | None = None, status: int = 200, **extra):
    source = None
    if article is not None and article.source_ticket_id:
        source = db.session.get(Ticket, article.source_ticket_id)
    published = store.published(article) if article else None
    context = dict(
        fields=fields, article=article, source_ticket=source,
        revision=store.latest(article) if article else None,
        published_number=published.number if published else None,
        preview_html=_as_published(fields.body, fields.language, fields.slug).html,
        base_hash=article.file_hash if article else "", categories=load_categories(_articles_dir()),
        languages=LANGUAGES, can_publish=auth.can(current_user, "articles.publish"),
        translations=_translations(article), conflict=None, error=None, now=utcnow())
    context.update(extra)
    context["beside"] = beside = _beside(context.get("beside"), fields)
    context["translates"] = beside if beside and _may_translate(article, beside["article"]) else None
    linked = [other for _, other in context["translations"] if other is not None]
    context["outdated"] = store.outdated(linked + ([article] if article else []))
    return render_template("console/article_edit.html", **context), status


def _beside(other: KbArticle | None, fields: Fields) -> dict | None:
    """Another language version to show beside the editor (rendered), if it is one."""
    if other is None or other.translation_key != fields.translation_key:
        return None
    revision = store.published(other) or store.latest(other)
    return {"article": other, "title": revision.title, "number": revision.number,
            "html": _as_published(revision.body, other.language, other.slug).html}


def _may_translate(article: KbArticle | None, source: KbArticle) -> bool:
    """Whether saving with ``source`` beside records it as the article's source: a new
    translation, or one from that source (or from none yet) that is not itself its source."""
    if article is None:
        return True
    return (article.source_article_id in (None, source.id)
            and source.source_article_id != article.id)


def _record_source(article: KbArticle) -> None:
    """The revision of the source version the editor had beside (``source_article``,
    ``source_revision``): the translation is now up to date with it (committed)."""
    raw_id, raw_number = (request.form.get(name, "") for name in ("source_article", "source_revision"))
    if raw_id.isdigit() and raw_number.isdigit() and len(raw_id) < 10 and len(raw_number) < 7:
        source = store.get(int(raw_id))
        if source is not None and _may_translate(article, source):
            store.set_source(article, source, int(raw_number))
            db.session.commit()


def _article_arg(name: str) -> KbArticle | None:
    raw = request.args.get(name, "")
    return store.get(int(raw)) if raw.isdigit() and len(raw) < 10 else None


def _translations(article: KbArticle | None) -> list[tuple[str, KbArticle | None]]:
    """(language, the linked version or None) for every language but the article's own."""
    if article is None:
        return []
    linked = {a.language: a for a in db.session.scalars(
        db.select(KbArticle).filter_by(translation_key=article.translation_key))}
    return [(language, linked.get(language)) for language in LANGUAGES
            if language != article.language]


@bp.get("/articles/new")
@auth.staff_page("articles.edit")
def new_article():
    ticket = None
    if request.args.get("ticket"):
        ticket = prefill.find_ticket(request.args["ticket"])
        if ticket is None:
            abort(404)
    language = request.args.get("language", "")
    language = language if language in LANGUAGES else "en"
    original = _article_arg("source")
    if ticket is not None:
        fields = prefill.fields_from_ticket(ticket)
    elif original is not None:     # a translation starts as a copy of the source version
        fields = from_revision(store.published(original) or store.latest(original))
        fields.language = language
    else:
        fields = Fields(title="", slug="", language=language,
                        translation_key=request.args.get("translation_key", "")[:100])
    fields.category = fields.category or default_category(current_app.config["ARTICLES_DIR"])
    return _editor(fields, source_ticket=ticket, beside=original)


@bp.get(ARTICLE)
@auth.staff_page("articles.edit")
def edit_article(article_id: int):
    article = _article_or_404(article_id)
    revision = store.latest(article)
    return _editor(from_revision(revision), article, beside=_article_arg("beside"))


@bp.post("/articles")
@bp.post(ARTICLE)
@auth.staff_page("articles.edit")
def save_article(article_id: int | None = None):
    article = _article_or_404(article_id) if article_id else None
    action = request.form.get("action", "save")
    if action not in SAVE_ACTIONS:
        abort(400)
    if action in PUBLISHING and not auth.can(current_user, "articles.publish"):
        abort(403)
    ticket = prefill.find_ticket(request.form.get("source_ticket", "")) if article is None else None
    try:
        fields = from_form(request.form, _articles_dir())
    except AuthoringError as exc:
        return _editor(_posted_fields(), article, exc.status, error=strings.say(exc),
                       base_hash=request.form.get("base_hash", ""), source_ticket=ticket)
    note = request.form.get("note", "")[:500]
    try:
        if article is None:
            article = store.create(auth.staff(), fields, source_ticket=ticket, note=note)
            db.session.commit()
            if action != "save":
                _apply(action, article, fields, note)
        else:
            _apply(action, article, fields, note)
    except publishing.Conflict as exc:
        return _conflict(article, fields, exc)
    except AuthoringError as exc:
        db.session.rollback()
        return _editor(fields, article, exc.status, error=strings.say(exc),
                       base_hash=request.form.get("base_hash", ""))
    _record_source(article)
    flash(strings.translate("done_" + action), "success")
    return redirect(url_for("console.edit_article", article_id=article.id))


def _apply(action: str, article: KbArticle, fields: Fields, note: str) -> None:
    base_hash = request.form.get("base_hash", "")
    if action == "publish":
        publishing.publish(auth.staff(), article, fields, base_hash, note,
                           notify=request.form.get("notify") == "on")
    elif action == "schedule":
        publishing.schedule(auth.staff(), article, fields, base_hash, _publish_at(), note)
    else:
        store.save(auth.staff(), article, fields, kind=action, note=note)


def _publish_at() -> dt.datetime:
    """The form's ``publish_at`` (``YYYY-MM-DDTHH:MM``, UTC)."""
    try:
        return dt.datetime.fromisoformat(request.form.get("publish_at", "")[:32]).replace(tzinfo=None)
    except ValueError:
        raise AuthoringError("err_publish_at") from None


def _posted_fields() -> Fields:
    """What the user typed, unvalidated, to show it again with the error."""
    form = request.form
    return Fields(title=form.get("title", "")[:300], slug=form.get("slug", "")[:100],
                  language=form.get("language", "")[:8],
                  translation_key=form.get("translation_key", "")[:100],
                  category=form.get("category", "")[:64], tags=[form.get("tags", "")[:2000]],
                  summary=form.get("summary", "")[:1000],
                  visibility=form.get("visibility", "public")[:16],
                  urls=form.get("urls", "")[:5000].splitlines(), body=form.get("body", ""))


def _conflict(article: KbArticle, fields: Fields, conflict: publishing.Conflict):
    """Keep the editor's text as a revision and show both versions (never overwrite)."""
    db.session.rollback()
    row = store.save(auth.staff(), article, fields, note=strings.system_note("note_not_published"))
    table = diff.side_by_side(conflict.disk_text, fields.file_text(updated=""),
                              (strings.translate("on_disk"), strings.translate("yours")),
                              strings.translate("no_differences"))
    return _editor(fields, article, 409, conflict={"diff": table, "disk_hash": conflict.disk_hash,
                                                    "saved": row.number})


@bp.post(ARTICLE + "/take-file")
@auth.staff_page("articles.edit")
def take_file(article_id: int):
    article = _article_or_404(article_id)
    publishing.sync_files(_articles_dir())
    flash(strings.translate("took_file"), "success")
    return redirect(url_for("console.edit_article", article_id=article.id))


@bp.post(ARTICLE + "/archive")
@auth.staff_page("articles.publish")
def archive_article(article_id: int):
    article = _article_or_404(article_id)
    try:
        publishing.archive(auth.staff(), article, request.form.get("base_hash", ""))
    except publishing.Conflict as exc:
        return _conflict(article, from_revision(store.latest(article)), exc)
    except AuthoringError as exc:
        flash(strings.say(exc), "error")
        return redirect(url_for("console.edit_article", article_id=article.id))
    flash(strings.translate("done_archive"), "success")
    return redirect(url_for("console.edit_article", article_id=article.id))


# --- revisions ---------------------------------------------------------------------------------
@bp.get(ARTICLE + "/revisions")
@auth.staff_page("articles.view")
def article_revisions(article_id: int):
    article = _article_or_404(article_id)
    rows = store.revisions(article)
    table = None
    numbers = [request.args.get(name, "") for name in ("a", "b")]
    if all(numbers):
        if not all(n.isdigit() for n in numbers):
            abort(400)
        old, new = (store.revision(article, int(n)) for n in numbers)
        if old is None or new is None:
            abort(404)
        label = strings.translate("revision")
        table = store.diff_table(old, new, (f"{label} {old.number}", f"{label} {new.number}"),
                                 strings.translate("no_differences"))
    elif rows:
        numbers = [str(rows[1].number if len(rows) > 1 else rows[0].number), str(rows[0].number)]
    return render_template("console/article_revisions.html", article=article, revisions=rows,
                           diff=table, a=numbers[0], b=numbers[1] if len(numbers) > 1 else "",
                           now=utcnow())


@bp.post(ARTICLE + "/revisions/<int(max=100000):number>/restore")
@auth.staff_page("articles.edit")
def restore_revision(article_id: int, number: int):
    article = _article_or_404(article_id)
    try:
        row = store.restore(auth.staff(), article, number)
    except AuthoringError as exc:
        db.session.rollback()
        abort(exc.status)
    flash(strings.translate("restored", n=number, m=row.number), "success")
    return redirect(url_for("console.edit_article", article_id=article.id))


# --- the editor's JSON endpoints ---------------------------------------------------------------
def _json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise AuthoringError("err_json_object")
    return data


@bp.post("/articles/preview")
@json_page("articles.edit")
def preview_article():
    """The body rendered and sanitized exactly as the help center renders it."""
    data = _json_body()
    body = data.get("body", "")
    if not isinstance(body, str):
        raise AuthoringError("err_not_text", name="body")
    if len(body) > MAX_BODY:
        raise AuthoringError("err_too_long", name="body", limit=MAX_BODY)
    rendered = _as_published(body, str(data.get("language") or ""), str(data.get("slug") or ""))
    return jsonify({"html": rendered.html, "toc": rendered.toc})


def _as_published(body: str, language: str, slug: str) -> Rendered:
    """The body rendered as the help center shows the article ``language/slug``: its relative
    links and images resolved as in the file ``<language>/<slug>.md`` (``indexer.articles.links``)."""
    rendered = render_markdown(body)
    if language in LANGUAGES and SLUG_RE.match(slug[:100]):
        rendered.html = rewrite_urls(rendered.html, Article(slug=slug, language=language, title="",
                                                            path=f"{language}/{slug}.md"))
    return rendered


@bp.post("/articles/autosave")
@json_page("articles.edit")
def autosave_article():
    """Save the editor's state as the author's autosave revision (creating the article on the
    first one); answers where the article now lives."""
    data = _json_body()
    raw_id = str(data.get("article_id") or "")
    article = store.get(int(raw_id)) if raw_id.isdigit() and len(raw_id) < 10 else None
    if raw_id and article is None:
        raise AuthoringError("err_no_such_article", 404)
    fields = from_form(data, _articles_dir())
    if article is None:
        ticket = prefill.find_ticket(str(data.get("source_ticket") or ""))
        article = store.create(current_user, fields, source_ticket=ticket, kind="autosave")
        db.session.commit()
        row = store.latest(article)
    else:
        row = store.save(current_user, article, fields, kind="autosave")
    return jsonify({"article_id": article.id, "revision": row.number,
                    "saved_at": row.created_at.isoformat() + "Z",
                    "edit_url": url_for("console.edit_article", article_id=article.id),
                    "save_url": url_for("console.save_article", article_id=article.id)})


@bp.post("/articles/uploads")
@json_page("articles.edit")
def upload_file():
    upload = request.files.get("file")
    if upload is None:
        raise AuthoringError("err_file_field")
    row = uploads.store_upload(current_user, upload.filename or "",
                               upload.read(current_app.config["UPLOAD_MAX_BYTES"] + 1))
    url = url_for("media.media_file", name=row.stored_name)
    return jsonify({"url": url, "markdown": uploads.markdown_for(row, url),
                    "content_type": row.content_type, "size": row.size}), 201


# --- uploaded files ------------------------------------------------------------------------------
@media_bp.get("/media/<name>")
@public_limit()
def media_file(name: str):
    """An uploaded file: to anyone once a published public article links to it, else only to
    signed-in staff (404 for the others: not even its existence is told). A name nothing was
    uploaded as is an image of the articles folder's ``media/`` (docs-as-code authors')."""
    row = uploads.find(name[:80])
    if row is None:
        return _folder_image(f"media/{name}")
    public = row is not None and uploads.is_public(row.stored_name)
    if row is None or not (public or (current_user.is_authenticated
                                      and auth.can(current_user, "articles.view"))):
        abort(404)
    response = send_from_directory(uploads.folder(), row.stored_name, mimetype=row.content_type,
                                   as_attachment=not row.content_type.startswith("image/"),
                                   download_name=row.filename or row.stored_name,
                                   max_age=86400 if public else 0)
    if not public:
        response.cache_control.public = False
        response.cache_control.private = True
        response.cache_control.no_store = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.vary.add("Cookie")
    return response


@media_bp.get("/files/<path:name>")
@public_limit()
def article_folder_file(name: str):
    """An image from the articles folder, shown by a file-based article (``![](img/x.png)``
    beside it: ``indexer.articles.links``); only images (``uploads.folder_image``), else 404."""
    return _folder_image(name)


def _folder_image(relative: str):
    found = uploads.folder_image(current_app.config["ARTICLES_DIR"], relative)
    if found is None:
        abort(404)
    response = send_file(found[0], mimetype=found[1], max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
