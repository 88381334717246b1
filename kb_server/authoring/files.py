"""The ``articles/`` folder side of authoring: files are first-class (reviewable in git).

- Publishing writes ``articles/<lang>/<slug>.md`` atomically (a temporary file renamed over
  it) and remembers the SHA-256 of the bytes written (``KbArticle.file_hash``).
- ``sync_from_files`` turns every file whose bytes differ from that hash into a new revision
  (author ``file``, state validated: what is on disk is what is published; a ``status: draft``
  file is work in progress), and imports files the database does not know (dated by their
  ``updated`` front matter, so the stale and review filters mean something from the start). ``kb serve`` runs it every ``ARTICLES_SYNC_SECONDS``; the
  articles list runs it when opened. Unchanged files are skipped by size and modification time.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import IntegrityError

from indexer.articles import Article, ArticleError
from indexer.articles.categories import load_categories
from indexer.articles.scan import parse_file, slug_line
from kb_server import audit, shared_kb
from kb_server.shared_kb import digest
from kb_server.authoring import store
from kb_server.authoring.fields import from_article, from_revision
from kb_server.console.strings import system_note
from kb_server.extensions import db
from kb_server.models import KbArticle, PublishedFile, utcnow

log = logging.getLogger(__name__)
FILE_AUTHOR = "file"
STATE_FILE = "articles_sync.json"     # in INDEX_DIR: every process's health reads it
_seen: dict[str, tuple[int, int]] = {}      # path -> (size, mtime_ns) at the last sync
_seen_lock = threading.Lock()


def disk_hash(path: Path) -> str:
    """SHA-256 of the file's bytes, "" when there is no file."""
    try:
        return digest(path.read_bytes())
    except FileNotFoundError:
        return ""


def write_atomic(path: Path, text: str | bytes) -> str:
    """Write ``text`` (or bytes) to ``path`` through a temporary file in the same folder (a
    reader sees the old file or the new one, never half of one); returns the bytes' SHA-256."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    remember(path)
    return digest(data)


def remember(path: Path) -> None:
    """The sync takes ``path`` as it is now for known: unchanged until its size or modification
    time changes, and, on a node that follows the shared knowledge base, a file it had."""
    stat = path.stat()
    with _seen_lock:
        _seen[str(path)] = (stat.st_size, stat.st_mtime_ns)


def _had(path: Path) -> bool:
    with _seen_lock:
        return str(path) in _seen


def _unchanged_since_last_sync(path: Path) -> bool:
    stat = path.stat()
    with _seen_lock:
        return _seen.get(str(path)) == (stat.st_size, stat.st_mtime_ns)


@dataclass
class SyncReport:
    imported: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)       # their file was deleted
    errors: list[str] = field(default_factory=list)
    refused: str = ""        # why the files found deleted were not archived (the mass guard)
    images: list[str] = field(default_factory=list)         # recorded for the other nodes

    @property
    def changed(self) -> bool:
        return bool(self.imported or self.updated or self.archived)


def article_files(articles_dir: str | Path):
    """``(relative path, path)`` of every article file: ``<lang>/<name>.md``."""
    return ((relative, path) for relative, path in shared_kb.text_files(articles_dir)
            if relative.endswith(".md"))


def sync_from_files(articles_dir: str | Path, followed: bool = False,
                    confirm_removal: bool = False) -> SyncReport:
    """Make a revision of every article file changed since it was last written or read
    (committed). A file that does not parse is reported and left alone. ``followed``: this
    node follows the shared knowledge base, whose files it may not have written yet, so an
    absent file is deleted only if the node had it. Deleted files archive their articles unless
    they are more than ``SYNC_MAX_ARCHIVE_SHARE`` of the articles with a file (an empty or
    missing folder, e.g. an unmounted volume): then nothing is archived, the refusal is logged
    and shown in health until ``confirm_removal`` (``kb sync-files --confirm-removal``)."""
    report = SyncReport()
    known = {a.file_path: a for a in db.session.scalars(db.select(KbArticle))}
    present, changed = set(), []
    categories = load_categories(articles_dir)
    for relative, path in article_files(articles_dir):
        present.add(relative)
        if _unchanged_since_last_sync(path):
            continue
        data = path.read_bytes()
        article = known.get(relative)
        if article is not None and article.file_hash == digest(data):
            remember(path)
            continue
        try:
            changed.append((relative, path, data, parse_file(relative, data, categories, render=False)))
        except ArticleError as exc:
            report.errors.extend(str(error) for error in exc.every)
    # like ``kb check``: of two files with one slug, the one named after it keeps it
    changed.sort(key=lambda entry: Path(entry[0]).stem != entry[3].slug)
    for relative, path, data, parsed in changed:
        try:
            _sync_one(relative, data, parsed, known.get(relative), articles_dir, report)
        except ArticleError as exc:
            report.errors.append(str(exc))
            continue
        remember(path)
    live = [a for a in known.values() if a.file_hash and a.state != "archived"]
    gone = [a for a in live if a.file_path not in present
            and (not followed or _had(Path(articles_dir) / a.file_path))]
    with_file = len(live) + len(report.imported)
    report.refused = "" if confirm_removal else _mass_removal(articles_dir, len(gone), with_file)
    for article in [] if report.refused else gone:
        _archive_deleted(article.file_path, article, report)
    if followed and not report.refused:
        report.images = _sync_images(articles_dir)
    try:
        db.session.commit()
    except IntegrityError:     # another process imported the same new file at the same moment
        db.session.rollback()
        return SyncReport(errors=report.errors)
    _note_problems(report)
    return report


def _sync_images(articles_dir: str | Path) -> list[str]:
    """Record the images of the articles folder added, changed or deleted on this node's disk
    (``shared_kb``: every node shows them). One this node last wrote or read is left alone:
    a newer version from another node may be on its way."""
    root = Path(articles_dir)
    recorded = db.session.execute(db.select(PublishedFile.path, PublishedFile.deleted)).all()
    changed, present = [], set()
    for relative, path in shared_kb.image_files(root):
        present.add(relative)
        if not _unchanged_since_last_sync(path):
            if shared_kb.record(relative, path.read_bytes()):
                changed.append(relative)
            remember(path)
    for relative, deleted in recorded:
        if (shared_kb.is_image(relative) and not deleted and relative not in present
                and _had(root / relative)):
            shared_kb.record(relative, None)
            changed.append(relative)
    return changed


def _mass_removal(articles_dir: str | Path, gone: int, live: int) -> str:
    """Why archiving ``gone`` of the ``live`` articles with a file is refused ("" if it is not)."""
    if not gone or gone <= current_app.config["SYNC_MAX_ARCHIVE_SHARE"] * live:
        return ""
    root = Path(articles_dir)
    folder = ("missing" if not root.is_dir()
              else "empty" if not any(article_files(root)) else "present")
    return (f"{gone} of the {live} articles with a file have none in {root} (the folder is "
            f"{folder}): none archived, more than KB_SYNC_MAX_ARCHIVE_SHARE. Mount or fill the "
            "folder, or confirm the removal with `kb sync-files --confirm-removal`")


def _state_path() -> Path:
    return Path(current_app.config["INDEX_DIR"]) / STATE_FILE


def _note_problems(report: SyncReport) -> None:
    """Keep the last sync's refusal and broken files where every server process's health reads
    them, logged once (not at every sync of ``kb serve``'s loop) and when they are over."""
    before = sync_problem() or {}
    now = {"refused": report.refused, "errors": report.errors}
    if report.refused and report.refused != before.get("refused"):
        log.error("article file sync refused: %s", report.refused)
    elif not report.refused and before.get("refused"):
        log.info("article file sync: the refusal is over (%s)", before["refused"])
    if report.errors and report.errors != before.get("errors"):
        log.error("article files skipped (fix them; the others are synced):\n%s",
                  "\n".join(report.errors))
    elif not report.errors and before.get("errors"):
        log.info("article file sync: no broken files any more")
    path = _state_path()
    if not any(now.values()):
        path.unlink(missing_ok=True)
    elif any(now[key] != before.get(key) for key in now):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**now, "at": utcnow().isoformat()}), encoding="utf-8")


def sync_problem() -> dict | None:
    """What the last file sync on this node could not do (``/api/v1/health``): ``refused``, why
    it archived none of the deleted files ("" if it did), ``errors``, the files it skipped
    (``file:line: message``); None when it did everything."""
    try:
        return json.loads(_state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _archive_deleted(relative: str, article: KbArticle, report: SyncReport) -> None:
    """A file deleted on disk (e.g. removed in git) takes its article off the help center: the
    article is archived, its history kept (restoring and publishing writes the file again)."""
    before = article.state
    store.add_revision(FILE_AUTHOR, article, from_revision(store.latest(article)), kind="file",
                       state="archived", note=system_note("note_deleted_on_disk", path=relative))
    article.file_hash = ""
    shared_kb.record(relative, None)
    audit.record(FILE_AUTHOR, "article", article.article_id, "file_deleted",
                 {"state": before}, {"state": "archived"})
    report.archived.append(relative)


def _sync_one(relative: str, data: bytes, parsed: Article, article: KbArticle | None,
              articles_dir: str | Path, report: SyncReport) -> None:
    fields = from_article(parsed)
    state = "validated" if parsed.status == "published" else "work_in_progress"
    if article is None:
        article = store.by_id(parsed.language, parsed.slug)
        if (article is not None and article.file_path and article.file_path != relative
                and (Path(articles_dir) / article.file_path).is_file()):
            raise ArticleError(relative, slug_line(data), f"duplicate slug "
                               f"{parsed.slug!r} in language {parsed.language!r} (already "
                               f"used by {article.file_path})")
    latest = store.latest(article) if article is not None else None
    if latest is not None and from_revision(latest) == fields and latest.state == state:
        article.file_path, article.file_hash = relative, digest(data)   # the same content:
        return                                   # written by a publish another process made
    if article is None:
        article = store.create(FILE_AUTHOR, fields, kind="file", state=state,
                               note=system_note("note_imported", path=relative))
        report.imported.append(relative)
    else:
        if (fields.language, fields.slug) != (article.language, article.slug):
            raise ArticleError(relative, 1, f"this file now holds {parsed.id}; the console "
                               f"knows it as {article.article_id}: rename it back")
        before = article.state
        store.add_revision(FILE_AUTHOR, article, fields, kind="file", state=state,
                           note=system_note("note_changed_on_disk", path=relative))
        audit.record(FILE_AUTHOR, "article", article.article_id, "file_changed",
                     {"state": before}, {"state": state})
        report.updated.append(relative)
    article.file_path, article.file_hash = relative, digest(data)
    shared_kb.record(relative, data)
    article.updated_at = _updated(parsed.updated)
    if state == "validated":       # a draft file (status: draft) is on disk but not published
        article.published_revision_id = article.current_revision_id
        article.published_at = utcnow()
        article.review_due = store.review_date(article.updated_at)


def _updated(value: str) -> dt.datetime:
    """The front matter's ``updated`` date if it is one and not in the future, else now."""
    now = utcnow()
    try:
        return min(now, dt.datetime.fromisoformat(value[:10])) if value else now
    except ValueError:
        return now


def start_background_sync(app, every: float, stop: threading.Event | None = None):
    """``sync_from_files`` every ``every`` seconds in a daemon thread (``kb serve``), with an
    incremental reindex when a file changed, the scheduled publishes that are due and the
    vectors of articles published elsewhere; None when ``every`` is 0."""
    if every <= 0:
        return None
    stop = stop or threading.Event()

    def loop() -> None:
        from kb_server.authoring import publishing
        while not stop.wait(every):
            with app.app_context():
                try:
                    publishing.sync_files(app.config["ARTICLES_DIR"],
                                          followed=shared_kb.followed(app.config))
                    publishing.publish_due()
                    publishing.embed_missing()
                except Exception:
                    db.session.rollback()
                    log.exception("article file sync failed")
    thread = threading.Thread(target=loop, name="article-sync", daemon=True)
    thread.start()
    return thread
