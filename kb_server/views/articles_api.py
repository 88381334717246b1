"""The staff API of authoring: what the console's editor does, with a personal token.

| route | right | what |
|---|---|---|
| ``GET /api/v1/articles?q=&language=&category=&state=&author=&updated=&flag=&page=`` | articles.view | articles as the console lists them |
| ``GET /api/v1/articles/<id>`` | articles.view | an article, its latest revision in full, its revisions |
| ``POST /api/v1/articles`` | articles.edit | a new draft (work in progress) from the fields; a translation names its source (``source_article``, ``source_revision``) |
| ``POST /api/v1/articles/<id>/revisions`` | articles.edit | save the fields as the next revision; ``base_revision`` (the latest one the client saw) else 409 |
| ``POST /api/v1/articles/<id>/submit`` | articles.edit | the latest revision submitted for review (not validated) |
| ``POST /api/v1/articles/<id>/publish`` | articles.publish | the latest revision validated and written to its file |
| ``POST /api/v1/articles/<id>/archive`` | articles.publish | off the help center (its file stays, as a draft) |
| ``POST /api/v1/articles/<id>/revisions/<n>/restore`` | articles.edit | revision ``n``'s content as the newest revision |

Every write answers the article as ``GET /api/v1/articles/<id>`` does. The optional
``base_revision`` (submit, publish) refuses with 409 when someone saved since; ``base_hash``
(publish, archive; default: the file as the database last wrote or read it) refuses with 409
and the file's text when the file changed on disk (``kb_server.authoring.publishing``).
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from kb_server import auth
from kb_server.authoring import listing, prefill, publishing, store
from kb_server.authoring.fields import AuthoringError, Fields, from_form, from_revision
from kb_server.console.queue import ROW_ID_MAX
from kb_server.extensions import csrf, db
from kb_server.jsonapi import APIError, int_arg, json_body
from kb_server.models import KbArticle

bp = Blueprint("articles_api", __name__, url_prefix="/api/v1/articles")
csrf.exempt(bp)   # token-authenticated, never the session cookie
ARTICLE = f"/<int(max={ROW_ID_MAX}):article_id>"


class Stale(AuthoringError):
    """The client's ``base_revision`` is not the latest revision: someone saved since."""

    def __init__(self, base: int, latest: int):
        super().__init__(f"revision {latest} was saved since revision {base}", 409)
        self.details = {"latest_revision": latest}


@bp.errorhandler(AuthoringError)
def _refused(exc: AuthoringError):
    """An authoring refusal (bad fields, a conflict...) as the API's JSON error; nothing kept."""
    db.session.rollback()
    details = getattr(exc, "details", {})
    if isinstance(exc, publishing.Conflict):
        details = {"disk_hash": exc.disk_hash, "disk_text": exc.disk_text}
    response = jsonify({"error": exc.message, "status": exc.status, **details})
    response.status_code = exc.status
    return response


def _article(article_id: int) -> KbArticle:
    article = store.get(article_id)
    if article is None:
        raise APIError("no such article", 404)
    return article


def _answer(article: KbArticle, status: int = 200):
    """The article, its latest revision in full and its revisions (``GET`` and every write)."""
    latest = store.latest(article)
    return jsonify({"article": {**article.to_dict(), "file_hash": article.file_hash},
                    "latest": latest.to_dict(with_body=True) if latest else None,
                    "revisions": [row.to_dict() for row in store.revisions(article)]}), status


TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false"}


def _optional(body: dict, name: str, kind: type, limit: int = 500):
    """An optional field of the JSON body, of exactly type ``kind`` (strings up to ``limit``)."""
    value = body.get(name)
    if value is None:
        return None
    if type(value) is not kind:         # not isinstance: true is not an integer here
        raise APIError(f"'{name}' must be {TYPE_NAMES[kind]}")
    if kind is str and len(value) > limit:
        raise APIError(f"'{name}' is longer than {limit} characters")
    return value


def _check_base_revision(article: KbArticle, body: dict, required: bool = False) -> None:
    """``Stale`` (409) when the client's ``base_revision`` is not the latest revision."""
    base = _optional(body, "base_revision", int)
    if base is None and required:
        raise APIError("'base_revision' is required: the number of the latest revision you saw")
    latest = store.latest(article)
    number = latest.number if latest else 0
    if base is not None and base != number:
        raise Stale(base, number)


def _fields(body: dict) -> Fields:
    """The editor's fields from the JSON body: strings, lists of strings for tags and URLs."""
    for name in Fields.__dataclass_fields__:
        value, listed = body.get(name), name in ("tags", "urls")
        if listed and isinstance(value, list) and all(isinstance(item, str) for item in value):
            continue
        if value is not None and not isinstance(value, str):
            raise APIError(f"'{name}' must be a string" + (" or a list of strings" if listed else ""))
    return from_form(body, current_app.config["ARTICLES_DIR"])


# --- reading -----------------------------------------------------------------------------------
@bp.get("")
@auth.staff_api("articles.view")
def list_articles():
    """The console's articles list: its filters (``q``, ``language``, ``category``, ``state``,
    ``author``, ``updated``, ``flag``) and ``page``."""
    page = int_arg("page", 1, maximum=1000)
    rows, total, flagged = listing.find(listing.parse(request.args), page)
    return jsonify({"articles": [{**row.to_dict(), "not_helpful": flagged.get(row.article_id, 0)}
                                 for row in rows],
                    "total": total, "page": page, "per_page": listing.PER_PAGE})


@bp.get(ARTICLE)
@auth.staff_api("articles.view")
def get_article(article_id: int):
    """An article, its latest revision in full and the list of its revisions."""
    return _answer(_article(article_id))


# --- writing -----------------------------------------------------------------------------------
@bp.post("")
@auth.staff_api("articles.edit")
def create_article():
    """A new draft: the editor's fields (``title``, ``slug``, ``language``, ``category``,
    ``tags``, ``summary``, ``urls``, ``visibility``, ``translation_key``, ``body``), an optional
    ``note`` and ``source_ticket`` (a ticket reference: the draft is linked to it)."""
    body = json_body()
    fields = _fields(body)
    reference = _optional(body, "source_ticket", str, 16)
    ticket = prefill.find_ticket(reference) if reference else None
    if reference and ticket is None:
        raise APIError(f"no ticket {reference!r}", 404)
    article = store.create(auth.staff(), fields, source_ticket=ticket,
                           note=_optional(body, "note", str) or "")
    _translated_from(article, body)
    db.session.commit()
    return _answer(article, 201)


@bp.post(ARTICLE + "/revisions")
@auth.staff_api("articles.edit")
def save_revision(article_id: int):
    """The fields saved as the next revision (work in progress); ``base_revision`` is required."""
    article = _article(article_id)
    body = json_body()
    _check_base_revision(article, body, required=True)
    fields = _fields(body)
    _translated_from(article, body)
    store.save(auth.staff(), article, fields, note=_optional(body, "note", str) or "")
    return _answer(article, 201)


@bp.post(ARTICLE + "/submit")
@auth.staff_api("articles.edit")
def submit_article(article_id: int):
    article = _article(article_id)
    body = _body()
    _check_base_revision(article, body)
    store.save(auth.staff(), article, from_revision(store.latest(article)), kind="submit",
               note=_optional(body, "note", str) or "")
    return _answer(article)


@bp.post(ARTICLE + "/publish")
@auth.staff_api("articles.publish")
def publish_article(article_id: int):
    """The latest revision published; ``notify``: a gap ticket it answers e-mails its users."""
    article = _article(article_id)
    body = _body()
    _check_base_revision(article, body)
    publishing.publish(auth.staff(), article, from_revision(store.latest(article)),
                       _base_hash(article, body), note=_optional(body, "note", str) or "",
                       notify=bool(_optional(body, "notify", bool)))
    return _answer(article)


@bp.post(ARTICLE + "/archive")
@auth.staff_api("articles.publish")
def archive_article(article_id: int):
    article = _article(article_id)
    publishing.archive(auth.staff(), article, _base_hash(article, _body()))
    return _answer(article)


@bp.post(ARTICLE + "/revisions/<int(max=100000):number>/restore")
@auth.staff_api("articles.edit")
def restore_revision(article_id: int, number: int):
    article = _article(article_id)
    store.restore(auth.staff(), article, number)
    return _answer(article, 201)


def _translated_from(article: KbArticle, body: dict) -> None:
    """``source_article`` and ``source_revision``: the translation is up to date with that
    revision of another language version (``store.set_source``; flushed)."""
    source_id, number = _optional(body, "source_article", int), _optional(body, "source_revision", int)
    if source_id is None and number is None:
        return
    source = store.get(source_id) if source_id is not None and 0 < source_id <= ROW_ID_MAX else None
    if (source is None or number is None or source.id == article.id
            or source.translation_key != article.translation_key
            or store.revision(source, number) is None):
        raise APIError("'source_article' and 'source_revision' must name a revision of another "
                       "language version of this article")
    store.set_source(article, source, number)


def _body() -> dict:
    """The JSON body of an action whose fields are all optional (an empty body is ``{}``)."""
    return json_body() if request.get_data(cache=True) else {}


def _base_hash(article: KbArticle, body: dict) -> str:
    """The file the client started from: ``base_hash``, else the one the database knows."""
    base = _optional(body, "base_hash", str, 64)
    return article.file_hash if base is None else base
