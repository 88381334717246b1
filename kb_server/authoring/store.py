"""Articles and their revisions in the database.

Every save is a revision (``ArticleRevision``) holding the full front matter and body; an
autosave replaces the author's previous autosave when it is the latest revision (a draft typed
for an hour is one revision, not hundreds). States follow KCS confidence: a save is *work in
progress*, "submit for review" makes it *not validated*, an editor's publish makes it
*validated* (``publishing``), archiving takes it off the help center. Restoring a revision
saves its content again as a new revision; nothing is ever rewritten.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from markupsafe import Markup

from kb_server import audit
from kb_server.authoring import diff
from kb_server.authoring.fields import AuthoringError, Fields, from_revision
from kb_server.console import kcs
from kb_server.console.strings import system_note
from kb_server.extensions import db
from kb_server.models import ArticleRevision, KbArticle, Ticket, User, utcnow


STATE_CHANGES = ("submit", "publish", "archive")


def get(article_id: int) -> KbArticle | None:
    return db.session.get(KbArticle, article_id)


def by_id(language: str, slug: str) -> KbArticle | None:
    return db.session.scalar(db.select(KbArticle).filter_by(language=language, slug=slug))


def revisions(article: KbArticle) -> list[ArticleRevision]:
    return list(db.session.scalars(db.select(ArticleRevision).filter_by(article_id=article.id)
                                   .order_by(ArticleRevision.number.desc())))


def revision(article: KbArticle, number: int) -> ArticleRevision | None:
    return db.session.scalar(db.select(ArticleRevision)
                             .filter_by(article_id=article.id, number=number))


def latest(article: KbArticle) -> ArticleRevision | None:
    return db.session.get(ArticleRevision, article.current_revision_id) \
        if article.current_revision_id else None


def published(article: KbArticle) -> ArticleRevision | None:
    return db.session.get(ArticleRevision, article.published_revision_id) \
        if article.published_revision_id else None


def review_date(published_at: dt.datetime) -> dt.datetime | None:
    """When a just published article asks its owner to re-check it (``ARTICLE_REVIEW_DAYS``)."""
    days = current_app.config["ARTICLE_REVIEW_DAYS"]
    return published_at + dt.timedelta(days=days) if days > 0 else None


def _author(actor) -> tuple[int | None, str]:
    return (None, actor) if isinstance(actor, str) else (actor.id, actor.email)


def create(actor: User | str, fields: Fields, source_ticket: Ticket | None = None,
           kind: str = "save", state: str = "work_in_progress", note: str = "") -> KbArticle:
    """A new article with its first revision (flushed, not committed)."""
    if by_id(fields.language, fields.slug) is not None:
        raise AuthoringError("err_article_exists", 409, language=fields.language, slug=fields.slug)
    author_id, _ = _author(actor)
    article = KbArticle(translation_key=fields.translation_key or fields.slug,
                        language=fields.language, slug=fields.slug, owner_id=author_id,
                        source_ticket_id=source_ticket.id if source_ticket else None,
                        file_path=f"{fields.language}/{fields.slug}.md", created_at=utcnow())
    db.session.add(article)
    db.session.flush()
    add_revision(actor, article, fields, kind=kind, state=state, note=note)
    if source_ticket is not None:      # KCS: the draft is linked to its ticket from the start
        kcs.link_article(source_ticket, article.language, article.slug, "created_from", actor,
                         article.translation_key, fields.title)
    return article


def _check_identity(article: KbArticle, fields: Fields) -> None:
    """Language and slug name the file: fixed once it has been published."""
    if (fields.language, fields.slug) == (article.language, article.slug):
        return
    if article.published_revision_id:
        raise AuthoringError("err_identity_fixed", 409)
    if by_id(fields.language, fields.slug) is not None:
        raise AuthoringError("err_article_exists", 409, language=fields.language, slug=fields.slug)
    kcs.move_article_links(article.language, article.slug, fields.language, fields.slug)
    article.language, article.slug = fields.language, fields.slug
    article.file_path = f"{fields.language}/{fields.slug}.md"


def add_revision(actor: User | str, article: KbArticle, fields: Fields, kind: str = "save",
                 state: str | None = None, note: str = "") -> ArticleRevision:
    """Save ``fields`` as the article's next revision (an autosave replaces the same author's
    latest autosave; submitting, publishing or archiving unchanged content only changes the
    latest revision's state); the article takes its title, category and state (flushed)."""
    _check_identity(article, fields)
    author_id, author = _author(actor)
    state = state or "work_in_progress"
    previous = latest(article)
    now = utcnow()
    if previous is not None and kind in STATE_CHANGES and from_revision(previous) == fields:
        previous.state = state          # the same content validated, submitted or archived:
        article.state = state           # a change of state (audited), not a new revision
        article.updated_at = now
        return previous
    if (kind == "autosave" and previous is not None and previous.kind == "autosave"
            and previous.author_id == author_id and previous.id != article.published_revision_id):
        row = previous
    else:
        number = (previous.number if previous else 0) + 1
        row = ArticleRevision(article_id=article.id, number=number, author_id=author_id,
                              author=author)
        db.session.add(row)
    for name, value in fields.as_dict().items():
        setattr(row, name, value)
    row.kind, row.state, row.note, row.created_at = kind, state, note[:500], now
    db.session.flush()
    article.current_revision_id = row.id
    article.title, article.category, article.state = fields.title, fields.category, state
    article.translation_key = fields.translation_key or fields.slug
    article.updated_at = now
    return row


def save(actor: User, article: KbArticle, fields: Fields, kind: str = "save",
         note: str = "") -> ArticleRevision:
    """Save (work in progress), autosave, or submit for review (not validated); committed."""
    if kind not in ("save", "autosave", "submit"):
        raise AuthoringError("err_save_kind", kind=kind)
    state = "not_validated" if kind == "submit" else "work_in_progress"
    before = article.state
    row = add_revision(actor, article, fields, kind=kind, state=state, note=note)
    if before != state:
        audit.record(actor, "article", article.article_id, kind, {"state": before},
                     {"state": state, "revision": row.number})
    db.session.commit()
    return row


def restore(actor: User, article: KbArticle, number: int) -> ArticleRevision:
    """Save revision ``number``'s content again as the newest revision (work in progress)."""
    old = revision(article, number)
    if old is None:
        raise AuthoringError("err_no_revision", 404, number=number)
    row = add_revision(actor, article, from_revision(old), kind="restore",
                       note=system_note("note_restored", number=number))
    audit.record(actor, "article", article.article_id, "restore", {},
                 {"restored": number, "revision": row.number})
    db.session.commit()
    return row


def set_source(article: KbArticle, source: KbArticle, number: int) -> None:
    """Record that ``article`` is translated from revision ``number`` of ``source`` (another
    language version of it; anything else is ignored). Flushed, not committed."""
    if (source.id != article.id and source.translation_key == article.translation_key
            and revision(source, number) is not None):
        article.source_article_id, article.source_revision = source.id, number
        db.session.flush()


def outdated(articles: list[KbArticle]) -> dict[int, tuple[KbArticle, int, int]]:
    """The translations among ``articles`` whose source published a later revision than the
    one they were translated from: ``{id: (source, translated revision, published revision)}``."""
    found = {}
    for article in articles:
        source = get(article.source_article_id) if article.source_article_id else None
        current = published(source) if source is not None else None
        if current is not None and current.number > (article.source_revision or 0):
            found[article.id] = (source, article.source_revision, current.number)
    return found


def revision_text(row: ArticleRevision) -> str:
    """A revision as its Markdown file (front matter and body) for diffs."""
    return from_revision(row).file_text(updated="")


def diff_table(old: ArticleRevision, new: ArticleRevision, labels: tuple[str, str],
               same: str = "no differences") -> Markup:
    """Two revisions' files side by side, changed words marked (``diff.side_by_side``)."""
    return diff.side_by_side(revision_text(old), revision_text(new), labels, same)
