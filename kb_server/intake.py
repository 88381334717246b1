"""What users send, written so that search traffic causes no write contention and no contact
is ever lost silently.

- **Events** (search, click, view) are buffered in each server process and written in batches:
  every ``EVENTS_FLUSH_SECONDS`` by a flusher thread, or at once when ``EVENTS_BATCH`` are
  waiting, and on shutdown (``close``, called by ``kb_server.serving`` on SIGTERM).
  ``EVENTS_FLUSH_SECONDS = 0`` writes each event in its request. While the database is
  unreachable, a process keeps up to ``MAX_BUFFERED`` events and drops the oldest beyond that
  (logged). Worst case: a process killed with SIGKILL loses the events of its last interval.
- **Contacts** are written in their request. When the database is unreachable the contact goes
  to the spool (``INSTANCE/spool/contacts``: one JSON file each, fsync'd with its folder) and
  the user gets 202; the flusher stores spooled contacts when the database is back (at least
  once: a crash between the commit and the file's removal stores it twice, never zero times).
  When even the spool cannot be written the caller answers 503 (``SpoolFailed``).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import threading
import uuid
import weakref
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from kb_server.extensions import db
from kb_server.models import Event, utcnow
from kb_server.tickets import service

log = logging.getLogger(__name__)

MAX_BUFFERED = 50_000        # events one process keeps while the database is unreachable
SPOOL_BATCH = 100            # spooled contacts stored per flusher round


class SpoolFailed(RuntimeError):
    """Neither the database nor the spool took the contact: the user must retry."""


def spool_dir(app: Flask) -> Path:
    return Path(app.config["INSTANCE_DIR"]) / "spool" / "contacts"


# --- events ------------------------------------------------------------------------------------
class Intake:
    """One process's event buffer and its flusher thread (started on first use, again in a
    forked worker: threads do not survive ``fork``)."""

    def __init__(self, app: Flask):
        self.app = app
        self._reset()
        reset = weakref.WeakMethod(self._reset)          # the app may go away (tests make many)
        os.register_at_fork(after_in_child=lambda: reset() and reset()())

    def _reset(self) -> None:
        """A fresh state (also in a forked worker: its parent's lock may have been held by a
        thread that does not exist in the child, and its parent's events are the parent's)."""
        self.lock = threading.Lock()
        self.events: list[dict] = []      # waiting to be written
        self.unjudged: list[int] = []     # written by a contact's request, rules not applied yet
        self.wake = threading.Event()
        self.stopping = False
        self.thread: threading.Thread | None = None
        self.pid = 0

    @property
    def interval(self) -> float:
        return float(self.app.config["EVENTS_FLUSH_SECONDS"])

    def add(self, fields: dict) -> None:
        """Record an event (written now when buffering is off, else by the next flush)."""
        fields = {**fields, "created_at": utcnow()}
        if self.interval <= 0:
            service.process_arrival(service.store_event(**fields))
            return
        with self.lock:
            self.events.append(fields)
            full = len(self.events) >= self.app.config["EVENTS_BATCH"]
        self.ensure_running()
        if full:
            self.wake.set()

    def ensure_running(self) -> None:
        """Start this process's flusher thread unless it runs."""
        if self.pid == os.getpid() and self.thread is not None and self.thread.is_alive():
            return
        with self.lock:
            if self.pid != os.getpid() or self.thread is None or not self.thread.is_alive():
                self.pid, self.stopping = os.getpid(), False
                self.thread = threading.Thread(target=self._loop, name="kb-intake", daemon=True)
                self.thread.start()

    def _loop(self) -> None:
        while not self.stopping:
            self.wake.wait(max(self.interval, 0.05))
            self.wake.clear()
            try:
                with self.app.app_context():
                    self.flush()
                    drain_spool(self.app)
            except Exception:
                log.exception("intake flush failed")

    def flush(self) -> int:
        """Write the buffered events in one transaction (in an app context), then apply the
        arrival rules to them; on a database error they go back to the buffer. Returns how
        many were written."""
        with self.lock:
            batch, self.events = self.events, []
            unjudged, self.unjudged = self.unjudged, []
        written = self._write(batch)
        ids = unjudged + written
        if ids:
            for event in db.session.scalars(select(Event).where(Event.id.in_(ids)).order_by(Event.id)):
                service.process_arrival(event)
        return len(written)

    def write_session(self, session_id: str) -> None:
        """Write the buffered events of one session now (a contact's context needs them); the
        arrival rules run on them in the next flush, outside the contact's request."""
        if not session_id:
            return
        with self.lock:
            mine = [fields for fields in self.events if fields["session_id"] == session_id]
            self.events = [fields for fields in self.events if fields["session_id"] != session_id]
        written = self._write(mine)
        with self.lock:
            self.unjudged += written

    def _write(self, batch: list[dict]) -> list[int]:
        """Insert ``batch``, return the new ids; on a database error it goes back to the
        buffer (returns [])."""
        if not batch:
            return []
        try:
            events = [Event(**fields) for fields in batch]
            db.session.add_all(events)
            db.session.flush()
            ids = [event.id for event in events]
            db.session.commit()
            return ids
        except DBAPIError:
            db.session.rollback()
            self._keep(batch)
            log.warning("database unreachable: %d events kept in memory", len(batch))
            return []

    def _keep(self, batch: list[dict]) -> None:
        with self.lock:
            self.events = (batch + self.events)
            if len(self.events) > MAX_BUFFERED:
                dropped = len(self.events) - MAX_BUFFERED
                self.events = self.events[dropped:]
                log.error("event buffer full: %d oldest events dropped", dropped)

    def close(self) -> None:
        """Stop the flusher and write what is buffered (shutdown)."""
        self.stopping = True
        self.wake.set()
        if self.thread is not None and self.pid == os.getpid():
            self.thread.join(timeout=10)
        with self.app.app_context():
            self.flush()


def init_app(app: Flask) -> None:
    app.extensions["intake"] = Intake(app)
    app.teardown_appcontext(_end_session)   # teardowns run in reverse: before Flask-SQLAlchemy's


def _end_session(error: BaseException | None) -> None:
    """Close the request's database session; a connection the database dropped meanwhile (a
    restart) is logged, not raised: the answer (a stored or spooled contact) is already made."""
    try:
        db.session.remove()
    except DBAPIError:
        log.warning("the database dropped a connection while a request ended", exc_info=True)


def intake() -> Intake:
    return current_app.extensions["intake"]


def close(app: Flask) -> None:
    """Write the events ``app``'s process still buffers (``kb_server.serving`` on shutdown)."""
    app.extensions["intake"].close()


# --- contacts ----------------------------------------------------------------------------------
def store_contact(fields: dict, message: str, email: str, name: str):
    """The contact's ticket (written now), or ``None`` when the database is unreachable and the
    contact was spooled. Raises ``SpoolFailed`` when the spool cannot be written either."""
    intake().write_session(fields["session_id"])   # its latest events belong in the context
    try:
        return service.create_contact_ticket(fields, message=message, email=email, name=name)
    except DBAPIError as error:
        db.session.rollback()
        if not _unreachable(error):
            raise
        log.warning("database unreachable, contact spooled: %s", error.orig)
    _spool(current_app._get_current_object(), {"fields": fields, "message": message,
                                                 "email": email, "name": name,
                                                 "received_at": utcnow().isoformat()})
    intake().ensure_running()
    return None


def _unreachable(error: DBAPIError) -> bool:
    """Whether the error means "no database right now" (not a bad statement)."""
    return error.connection_invalidated or isinstance(error, (OperationalError, InterfaceError))


def _spool(app: Flask, record: dict) -> Path:
    folder = spool_dir(app)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex}.json"
        temporary = path.with_suffix(".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(record, handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as error:
        log.error("contact could not be spooled: %s", error)
        raise SpoolFailed(str(error)) from error
    return path


def spooled(app: Flask) -> list[Path]:
    """The spooled contacts waiting, oldest first."""
    folder = spool_dir(app)
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def drain_spool(app: Flask) -> int:
    """Store spooled contacts as tickets (in an app context); each file is locked while it is
    stored, so processes sharing the instance folder never store one twice concurrently.
    Stops at the first database error (still unreachable). Returns how many were stored."""
    stored = 0
    for path in spooled(app)[:SPOOL_BATCH]:
        try:
            handle = open(path, encoding="utf-8")
        except FileNotFoundError:
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            if not path.exists():        # stored by another process meanwhile
                continue
            record = json.load(handle)
            try:
                _store_spooled(record)
            except DBAPIError:
                db.session.rollback()
                return stored
            path.unlink()
            stored += 1
    if stored:
        log.info("%d spooled contacts stored", stored)
    return stored


def _store_spooled(record: dict) -> None:
    """The ticket of a spooled contact, dated when the contact arrived."""
    service.create_contact_ticket(record["fields"], message=record["message"],
                                  email=record["email"], name=record["name"],
                                  now=dt.datetime.fromisoformat(record["received_at"]))
