"""Following the shared knowledge base: every node searches what any node published.

Each node keeps its own index (keyword + vectors) built from its own articles folder; the
database holds the folder as published (``kb_server.shared_kb``) and its generation. With
``KB_FOLLOW_DATABASE`` (on by default on PostgreSQL) ``kb serve`` runs a ``Follower``:

1. it listens on PostgreSQL channel ``linezero_kb`` (a connection of its own), which every
   publish notifies at commit, and also looks every ``KB_ARTICLES_SYNC_SECONDS`` (the safety
   net for a lost notification or connection);
2. on a change, it writes the files changed since the generation it serves into the local
   articles folder (atomically, as publishing does) and reindexes incrementally, which swaps
   the served index as any reindex does; vectors follow in the background, read from the
   shared store when another node embedded them (``kb_server.shared_vectors``).

A node that starts empty (a new machine) first writes every file from the database, then
builds its index; until that first catch-up is over, ``/readyz`` answers 503, so a load
balancer sends it no traffic. The generation served and the one seen are kept in
``INDEX_DIR/following.json``, which every server process reads for ``/api/v1/health``
(``following``) and ``/metrics`` (``kb_index_generation``, ``kb_index_generation_lag``).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Callable

import sqlalchemy as sa
from flask import Flask

from indexer.generation import write_atomic
from kb_server import shared_kb
from kb_server.authoring import files, publishing
from kb_server.extensions import db
from kb_server.models import PublishedFile

log = logging.getLogger(__name__)
STATE_FILE = "following.json"
RETRY_SECONDS = 1.0        # between attempts of the first catch-up while the database is away


def _state_path(config) -> Path:
    return Path(config["INDEX_DIR"]) / STATE_FILE


def _read_state(config) -> dict:
    try:
        return json.loads(_state_path(config).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def status(config) -> dict | None:
    """What this node follows (None when it does not): ``caught_up`` (its first catch-up is
    over), the shared generation ``seen`` (read now), the one ``served`` and the ``lag``."""
    if not shared_kb.followed(config):
        return None
    state = _read_state(config)
    try:
        seen = shared_kb.generation()
    except sa.exc.SQLAlchemyError:     # the database is away: what the follower saw last
        db.session.rollback()
        seen = state.get("seen", 0)
    served = state.get("served")
    return {"caught_up": served is not None, "generation_seen": seen,
            "generation_served": served, "lag": seen - served if served is not None else seen,
            "checked_at": state.get("checked_at")}


def write_files(rows: list[PublishedFile], articles_dir: str | Path) -> int:
    """Bring the local files of ``rows`` to their recorded content; returns how many changed."""
    root = Path(articles_dir)
    changed = 0
    for row in rows:
        if not shared_kb.is_shared_path(row.path):
            log.warning("ignored a shared file outside the articles folder: %r", row.path)
            continue
        path = root / row.path
        if row.deleted:
            if path.exists():
                path.unlink()
                changed += 1
            continue
        if files.disk_hash(path) != row.content_hash:
            files.write_atomic(path, row.data if row.data is not None else row.content)
            changed += 1
        files.remember(path)     # the file sync: this node has it (and it is not an edit here)
    return changed


class Listener:
    """``LISTEN linezero_kb`` on a connection of its own; ``wait`` returns True when notified,
    False after ``timeout``, None at once when the database cannot be reached."""

    def __init__(self, url: sa.URL):
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.connection = None

    def wait(self, timeout: float) -> bool | None:
        import psycopg
        try:
            if self.connection is None:
                self.connection = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
                self.connection.execute(f"LISTEN {shared_kb.CHANNEL}")
            notified = any(True for _ in self.connection.notifies(timeout=timeout, stop_after=1))
            if notified:      # a burst of publishes: one catch-up for all of them
                for _ in self.connection.notifies(timeout=0.05):
                    pass
            return notified
        except psycopg.Error as exc:
            log.warning("listening for knowledge-base changes failed (polling goes on): %s", exc)
            self.close()
            return None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class Follower:
    """Keeps this node's articles folder and index at the shared generation (module docstring)."""

    def __init__(self, app: Flask, stop: threading.Event | None = None):
        """Made before the node serves: what a previous run served is not caught up now."""
        self.app = app
        self.config = app.config
        self.stop = stop or threading.Event()
        self.served: int | None = None
        url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        self.listener = Listener(url) if url.get_backend_name() == "postgresql" else None
        _state_path(self.config).unlink(missing_ok=True)

    def catch_up(self) -> int:
        """Apply the changes since the generation served (all files the first time) and
        reindex (committed); returns how many files changed here. The generation served moves
        only when all of it succeeded: a failed reindex is tried again next time."""
        with self.app.app_context():
            try:
                first = self.served is None
                changes = shared_kb.changes_since(self.served or 0)
                folder = self.config["ARTICLES_DIR"]
                written = write_files(changes.files, folder)
                if first:     # files only this node has (new ones, a first node) join the store
                    files.sync_from_files(folder, followed=True)
                    shared_kb.record_folder(folder, seen=changes.generation)
                    # then what was recorded since the read: this node's own files (on disk:
                    # not taken for another node's changes next time) and another node's
                    later = shared_kb.changes_since(changes.generation)
                    written += write_files(later.files, folder)
                    changes = shared_kb.Changes(later.generation, changes.files + later.files)
                if first or changes.files:     # incremental: cheap when nothing changed here
                    publishing.refresh_index()
                db.session.commit()
            finally:
                db.session.remove()
        self.served = changes.generation
        self._save_state(changes.generation)
        return written

    def _save_state(self, generation: int) -> None:
        write_atomic(_state_path(self.config), json.dumps(
            {"seen": generation, "served": generation, "checked_at": time.time()}))

    def _wait(self, seconds: float) -> None:
        if self.listener is None or self.listener.wait(seconds) is None:
            self.stop.wait(seconds)      # polling only: no PostgreSQL, or it is away

    def run(self, on_caught_up: Callable[[], None] | None = None) -> None:
        """The first catch-up (retried until the database answers), ``on_caught_up()``, then a
        catch-up after every notification and every ``ARTICLES_SYNC_SECONDS`` until stopped."""
        every = self.config["ARTICLES_SYNC_SECONDS"] or 5.0   # 0 turns the file sync off, not this
        if self.listener is not None:
            self.listener.wait(0)       # listening before the first look: no change is missed
        while self.served is None and not self.stop.is_set():
            try:
                log.info("caught up with the shared knowledge base: %d files written",
                         self.catch_up())
            except Exception:
                log.exception("catching up with the shared knowledge base failed; retrying")
                self.stop.wait(RETRY_SECONDS)
        if on_caught_up is not None and not self.stop.is_set():
            on_caught_up()
        while not self.stop.is_set():
            self._wait(every)
            try:
                if self.catch_up():
                    log.info("followed the shared knowledge base to generation %d", self.served)
            except Exception:
                log.exception("following the shared knowledge base failed")
        if self.listener is not None:
            self.listener.close()

    def start(self, on_caught_up: Callable[[], None] | None = None) -> None:
        """``run`` in a daemon thread (``kb serve``)."""
        threading.Thread(target=self.run, args=(on_caught_up,), name="follow-kb",
                         daemon=True).start()
