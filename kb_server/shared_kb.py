"""The articles folder as recorded in the database, for every node to follow (``kb_server.follow``).

Whatever writes a file of the articles folder (publishing, the file sync importing a change
made on disk) records it here in the same transaction: its text and hash, and a new generation
of the shared knowledge base (``KbState``, one row: the counter is bumped under its row lock,
so concurrent publishers get consecutive generations in commit order). On PostgreSQL the
commit also notifies channel ``linezero_kb``, which the other nodes listen on.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from flask import current_app

from indexer.articles.links import IMAGE_TYPES
from indexer.catalog import CATEGORIES_FILE
from indexer.languages import LANGUAGES
from indexer.synonyms import SYNONYMS_FILE
from kb_server.extensions import db
from kb_server.models import KbState, PublishedFile, utcnow

CHANNEL = "linezero_kb"
STATE_ID = 1


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def followed(config) -> bool:
    """Whether ``kb serve`` follows the shared knowledge base (``kb_server.follow``):
    ``FOLLOW_DATABASE``, by default on for PostgreSQL and off for the embedded SQLite."""
    value = config.get("FOLLOW_DATABASE")
    if value is None:
        return str(config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql")
    return bool(value)


def shared_files(articles_dir: str | Path) -> Iterator[tuple[str, Path]]:
    """``(relative path, path)`` of every file a node needs to build the index and show the
    articles: the article Markdown files (``<lang>/<name>.md``), ``categories.yml``,
    ``synonyms.txt`` and the images the articles show (``is_image``: anywhere in the folder,
    e.g. ``en/img/screen.png`` or ``media/logo.png``)."""
    yield from text_files(articles_dir)
    yield from image_files(articles_dir)


def text_files(articles_dir: str | Path) -> Iterator[tuple[str, Path]]:
    """``shared_files`` but the images."""
    root = Path(articles_dir)
    for name in (CATEGORIES_FILE, SYNONYMS_FILE):
        if (root / name).is_file():
            yield name, root / name
    for language in LANGUAGES:
        for path in sorted((root / language).glob("*.md")):
            yield f"{language}/{path.name}", path


def image_files(articles_dir: str | Path) -> Iterator[tuple[str, Path]]:
    """The images of ``shared_files``: real files (not links) of at most ``UPLOAD_MAX_BYTES``,
    as the help center serves them."""
    root = Path(articles_dir)
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if (is_image(relative) and path.is_file() and not path.is_symlink()
                and path.stat().st_size <= limit):
            yield relative, path


def is_image(relative: str) -> bool:
    """An image of the articles folder (``indexer.articles.links.IMAGE_TYPES``, not hidden)."""
    parts = relative.split("/")
    return (Path(relative).suffix.lower() in IMAGE_TYPES
            and all(part and not part.startswith(".") and part != ".." for part in parts))


def is_shared_path(relative: str) -> bool:
    """True for a path ``shared_files`` would list (a row from the database is checked before
    it is written to disk: nothing outside the articles folder, no other names)."""
    if relative in (CATEGORIES_FILE, SYNONYMS_FILE) or is_image(relative):
        return True
    language, _, name = relative.partition("/")
    return (language in LANGUAGES and name.endswith(".md") and "/" not in name
            and not name.startswith(".") and name not in ("", ".md"))


def _bump() -> int:
    """The generation of this transaction's changes (the caller commits): the next one, taken
    once per transaction (its row lock is held until the commit, so an import of many files
    is one generation and one notification to the other nodes, sent at commit)."""
    session = db.session()
    taken = session.info.get("kb_generation")
    transaction = session.get_transaction()
    if taken is not None and taken[0] is transaction:
        return taken[1]
    state = db.session.get(KbState, STATE_ID, with_for_update=True)   # made by the migration
    state.generation += 1
    state.changed_at = utcnow()
    db.session.flush()
    if db.engine.dialect.name == "postgresql":     # delivered when the transaction commits
        db.session.execute(sa.select(sa.func.pg_notify(CHANNEL, str(state.generation))))
    session.info["kb_generation"] = (session.get_transaction(), state.generation)
    return state.generation


def record(relative: str, data: bytes | None) -> bool:
    """Record the file ``relative`` with the bytes ``data`` (None: deleted) in the session, with
    a new generation, unless the database already holds exactly that. True when it changed."""
    row = db.session.get(PublishedFile, relative)
    content_hash = digest(data) if data is not None else ""
    if row is not None and row.content_hash == content_hash and row.deleted == (data is None):
        return False
    number = _bump()
    if row is None:
        row = PublishedFile(path=relative)
        db.session.add(row)
    image = data is not None and is_image(relative)
    row.content = data.decode("utf-8", errors="replace") if data is not None and not image else ""
    row.data = data if image else None
    row.content_hash, row.deleted = content_hash, data is None
    row.generation, row.updated_at = number, utcnow()
    return True


def record_folder(articles_dir: str | Path, seen: int | None = None) -> int:
    """Record every shared file whose bytes the database does not hold yet, and the deletion
    of files it holds that are gone (committed); returns how many changed. ``kb serve`` runs it
    at start: an instance from before the shared store, or files changed while it was down.
    ``seen``: the folder holds the changes up to this generation; a file another node recorded
    after it is newer than the folder's, so it is left for the follower to write."""
    known = {row.path: row for row in db.session.scalars(db.select(PublishedFile))}
    newer = {path for path, row in known.items() if seen is not None and row.generation > seen}
    changed = 0
    present = set()
    for relative, path in shared_files(articles_dir):
        present.add(relative)
        if relative in newer:
            continue
        data = path.read_bytes()
        row = known.get(relative)
        if row is None or row.deleted or row.content_hash != digest(data):
            changed += record(relative, data)
    for relative, row in known.items():
        if relative not in present | newer and not row.deleted:
            changed += record(relative, None)
    db.session.commit()
    return changed


def generation() -> int:
    """The shared knowledge base's generation (0 before anything was recorded)."""
    return db.session.scalar(sa.select(KbState.generation).where(KbState.id == STATE_ID)) or 0


@dataclass
class Changes:
    generation: int                 # every change up to this one is in ``files``
    files: list[PublishedFile]


def changes_since(seen: int) -> Changes:
    """The files changed after generation ``seen`` (all of them for 0), and the generation
    they bring the follower to. The generation is read first: every file change up to it has
    committed, so none is missed; a later one read as well is applied again next time."""
    current = generation()
    rows = list(db.session.scalars(db.select(PublishedFile)
                                   .where(PublishedFile.generation > seen)
                                   .order_by(PublishedFile.generation)))
    return Changes(max([current, *(row.generation for row in rows)]), rows)
