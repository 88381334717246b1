"""Publishing: an editor validates a revision and it becomes the article's file.

The file on disk wins unless the editor says otherwise: publishing compares the file's current
hash with the one the editor's page was opened on (``base_hash``); if someone changed the file
since (by hand, in git, or another editor's publish), nothing is written and ``Conflict`` carries
the file's text so the editor can see both and choose: take the file's version (it becomes a
revision) or publish theirs over it (publishing again with the new hash as base). The index is
updated incrementally at once (keyword search finds the change within a second or two; vectors
follow in the background when semantic search is on). A gap ticket the article was written
for is resolved, with an audit entry and a note on the ticket.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from pathlib import Path

from flask import current_app
from whoosh.index import LockError

from kb_server import audit, search, shared_kb
from kb_server.authoring import files, store
from kb_server.authoring.fields import AuthoringError, Fields, from_revision
from kb_server.console import kcs
from kb_server.console.strings import system_note
from kb_server.extensions import db
from kb_server.models import ArticleRevision, KbArticle, Ticket, User, utcnow
from kb_server.models.tickets import OPEN_STATUSES

log = logging.getLogger(__name__)
_index_lock = threading.Lock()      # one index writer per process


class Conflict(AuthoringError):
    """The file changed since the editor opened the article."""

    def __init__(self, disk_text: str, disk_hash: str):
        super().__init__("the file changed on disk since you opened this article", 409)
        self.disk_text, self.disk_hash = disk_text, disk_hash


def file_of(article: KbArticle) -> Path:
    return Path(current_app.config["ARTICLES_DIR"]) / article.language / f"{article.slug}.md"


def check_base(article: KbArticle, base_hash: str) -> None:
    """Raise ``Conflict`` when the file is not the one the editor started from."""
    path = file_of(article)
    current = files.disk_hash(path)
    if current != (base_hash or ""):
        text = path.read_text(encoding="utf-8", errors="replace") if current else ""
        raise Conflict(text, current)


def publish(actor: User, article: KbArticle, fields: Fields, base_hash: str,
            note: str = "", notify: bool = False) -> None:
    """Save ``fields`` as a validated revision, write the file, reindex (committed); an open
    gap ticket the article was written from is then answered by it (``notify``: its users who
    left an e-mail get the article)."""
    check_base(article, base_hash)
    before = article.state
    row = store.add_revision(actor, article, fields, kind="publish", state="validated", note=note)
    _write(article, fields, status="published")
    article.published_revision_id, article.published_at = row.id, utcnow()
    article.review_due = store.review_date(article.published_at)
    _unschedule(article)
    audit.record(actor, "article", article.article_id, "publish", {"state": before},
                 {"state": "validated", "revision": row.number})
    db.session.commit()
    refresh_index()
    _answer_source_gap(actor, article, notify)


def schedule(actor: User, article: KbArticle, fields: Fields, base_hash: str,
             publish_at: dt.datetime, note: str = "") -> None:
    """Validate ``fields`` now and publish them at ``publish_at`` (UTC; the background loop of
    ``kb serve`` publishes what is due, with the same conflict check against ``base_hash``)."""
    if publish_at <= utcnow():
        raise AuthoringError("err_publish_past")
    check_base(article, base_hash)
    row = store.add_revision(actor, article, fields, kind="schedule", state="not_validated",
                             note=note or system_note("note_scheduled_for",
                                                      at=f"{publish_at:%Y-%m-%d %H:%M}"))
    article.publish_at, article.scheduled_revision_id = publish_at, row.id
    article.scheduled_by_id, article.scheduled_base_hash = actor.id, base_hash or ""
    audit.record(actor, "article", article.article_id, "schedule", {},
                 {"publish_at": publish_at.isoformat() + "Z", "revision": row.number})
    db.session.commit()


def _unschedule(article: KbArticle) -> None:
    article.publish_at = article.scheduled_revision_id = article.scheduled_by_id = None
    article.scheduled_base_hash = ""


def publish_due(now: dt.datetime | None = None) -> list[str]:
    """Publish the scheduled revisions that are due; a conflict cancels the schedule (audited:
    the editor decides). Returns the article ids published."""
    now = now or utcnow()
    published = []
    due = db.session.scalars(db.select(KbArticle).where(KbArticle.publish_at <= now))
    for article in list(due):
        actor = db.session.get(User, article.scheduled_by_id)
        row = db.session.get(ArticleRevision, article.scheduled_revision_id)
        base = article.scheduled_base_hash
        _unschedule(article)
        try:
            publish(actor, article, from_revision(row), base, note=system_note("note_scheduled_publish"))
            published.append(article.article_id)
        except Conflict:
            db.session.rollback()
            article = db.session.get(KbArticle, article.id)
            _unschedule(article)
            audit.record(actor, "article", article.article_id, "schedule_failed", {},
                         {"reason": "the file changed on disk since it was scheduled"})
            db.session.commit()
    return published


def archive(actor: User, article: KbArticle, base_hash: str) -> None:
    """Take a published article off the help center: its file stays (``status: draft``)."""
    current = store.published(article)
    if current is None:
        raise AuthoringError("err_archive_unpublished", 409)
    check_base(article, base_hash)
    fields = from_revision(store.latest(article))
    before = article.state
    store.add_revision(actor, article, fields, kind="archive", state="archived",
                       note=system_note("note_archived"))
    _write(article, fields, status="draft")
    article.published_revision_id = article.current_revision_id
    audit.record(actor, "article", article.article_id, "archive", {"state": before},
                 {"state": "archived"})
    db.session.commit()
    refresh_index()


def _write(article: KbArticle, fields: Fields, status: str) -> None:
    """Write the article's file and record it for the other nodes (in the session)."""
    text = fields.file_text(status=status)
    article.file_hash = files.write_atomic(file_of(article), text)
    article.file_path = f"{article.language}/{article.slug}.md"
    shared_kb.record(article.file_path, text.encode("utf-8"))


def _answer_source_gap(actor: User, article: KbArticle, notify: bool) -> None:
    """KCS: the open gap ticket the article was written from is answered by it, now that it
    is searchable (``kcs.mark_gap_answered``: linked, noted, audited, resolved)."""
    ticket = db.session.get(Ticket, article.source_ticket_id) if article.source_ticket_id else None
    if ticket is None or ticket.kind != "gap" or ticket.status not in OPEN_STATUSES:
        return
    kcs.mark_gap_answered(ticket, kcs.find_article(article.article_id, public=False), actor, notify)


def _reindex_when_unlocked(tries: int = 50):
    """Keyword reindex; another process (the file poller, another worker) may be writing the
    index for a moment: wait for its lock rather than fail the publish."""
    for attempt in range(tries):
        try:
            return search.reindex(with_vectors=False)
        except LockError:
            if attempt == tries - 1:
                raise
            time.sleep(0.1)


def embed_missing() -> bool:
    """Vectors for the articles indexed without them (published by another process, which had
    no model loaded: ``kb serve``'s web workers), computed here when this process has the model
    (``kb serve``'s parent, whose file-sync loop calls this). True when it embedded."""
    if search.semantic().state != "ready":
        return False
    vectors = search.service().health()["vectors"]
    if vectors["articles"] >= vectors["of"] or not search.embedding.acquire(blocking=False):
        return False      # none missing, or the embedding under way stores them
    try:
        with _index_lock:
            search.reindex()
    finally:
        search.embedding.release()
    return True


def sync_files(articles_dir: str, **options) -> files.SyncReport:
    """``files.sync_from_files`` (``options``: its keywords), then a reindex when it changed
    any article."""
    report = files.sync_from_files(articles_dir, **options)
    if report.changed:
        log.info("articles changed on disk: %s", report)
        refresh_index()
    return report


def refresh_index() -> None:
    """Incremental keyword reindex now; vectors in the background when the model is loaded."""
    with _index_lock:
        report = _reindex_when_unlocked()
    log.info("reindexed after authoring: %s", report.summary())
    if search.semantic().state != "ready":
        return
    app = current_app._get_current_object()

    def embed() -> None:
        with app.app_context(), search.embedding, _index_lock:   # after an embedding under way
            try:
                search.reindex()
            except Exception:
                log.exception("embedding the published article failed")
    threading.Thread(target=embed, name="embed-published", daemon=True).start()
