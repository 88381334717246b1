"""Background jobs on huey: e-mail delivery, webhook deliveries, the SLA check and the
unresolved-search rules.

- Storage: huey's ``SqliteHuey`` in the instance folder (``JOBS_DB``, the embedded default) or,
  with ``REDIS_URL`` set, ``RedisHuey``. Both keep a queued job across restarts.
- Jobs are declared where their work lives, with ``@job(name)`` (or ``@periodic(name,
  setting)``: every ``app.config[setting]`` seconds, rounded up to whole minutes, since huey's
  scheduler runs periodic tasks on the minute); ``init_app`` registers them on the app's huey
  instance, each run inside an app context.
- ``after_commit(name, *args)`` queues a job once the current database transaction commits (a
  rolled-back change queues nothing, and a job never reads a row that is not committed yet).
  When the queue is unreachable (Redis down) a job declared ``@job(name, local=True)`` runs in
  a thread of the process that committed instead; the others wait for their periodic requeue.
- The consumer: ``kb worker`` in production; ``kb serve`` runs one in its own process
  (``start_consumer``) unless ``JOBS_IN_SERVE`` is off. ``JOBS_IMMEDIATE`` runs every job at once
  in the process that queues it (tests); a retry is then scheduled but never run.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

import redis
from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey
from huey.api import Huey, TaskWrapper
from huey.consumer import Consumer
from sqlalchemy import event
from sqlalchemy.orm import Session

from kb_server.extensions import db
from kb_server.models.base import utcnow

log = logging.getLogger(__name__)

EPOCH = dt.datetime(1970, 1, 1)
PENDING_KEY = "linezero_jobs"
POLL_MAX_SECONDS = 1.0      # longest a consumer's idle thread waits before looking again


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[..., Any]
    every_setting: str = ""          # periodic jobs: the setting that says how often (seconds)
    local: bool = False              # run in this process when the queue is unreachable


JOBS: dict[str, JobSpec] = {}


def job(name: str, local: bool = False) -> Callable:
    """Declare a job. A job that should run again later raises huey's ``RetryTask(delay=...)``
    (it counts its own attempts, in the database, so a restart does not reset them).
    ``local``: when it cannot be queued, run it in a thread of the committing process (a job
    that must not wait for the queue to come back, and that is safe to run twice)."""
    def register(func: Callable) -> Callable:
        JOBS[name] = JobSpec(name, func, local=local)
        return func
    return register


def periodic(name: str, every_setting: str) -> Callable:
    """Declare a job run every ``app.config[every_setting]`` seconds (0: never)."""
    def register(func: Callable) -> Callable:
        JOBS[name] = JobSpec(name, func, every_setting=every_setting)
        return func
    return register


def every_minutes(seconds: float) -> int:
    """A period in seconds as whole minutes (0: never)."""
    return math.ceil(seconds / 60) if seconds > 0 else 0


def _due_every(minutes: int) -> Callable[[dt.datetime], bool]:
    def due(moment: dt.datetime) -> bool:
        return minutes > 0 and int((moment - EPOCH).total_seconds() // 60) % minutes == 0
    return due


def _in_app_context(app: Flask, spec: JobSpec) -> Callable:
    def run(*args, **kwargs):
        with app.app_context():
            try:
                return spec.func(*args, **kwargs)
            except Exception:
                db.session.rollback()
                raise
    run.__name__ = run.__qualname__ = spec.name.replace(".", "_")
    run.__doc__ = spec.func.__doc__
    return run


def storage_name(config) -> str:
    """Where the jobs are kept, for people (the Redis URL without its password)."""
    if config["REDIS_URL"]:
        parts = urlsplit(config["REDIS_URL"])
        return f"Redis {parts.hostname}:{parts.port or 6379}{parts.path}"
    return f"SQLite {config['JOBS_DB']}"


def runs_in_serve(config) -> bool:
    """Whether ``kb serve`` processes jobs: ``JOBS_IN_SERVE``, by default when Redis is unset."""
    if config["JOBS_IN_SERVE"] is None:
        return not config["REDIS_URL"]
    return bool(config["JOBS_IN_SERVE"])


# A Redis host that drops packets must not hold a contact request while its job is queued: the
# connect fails fast and the job runs in-process. Reads wait longer than huey's 1 s blocking pop.
REDIS_TIMEOUTS = {"socket_connect_timeout": 1, "socket_timeout": 5}


def make_huey(config) -> Huey:
    """The job storage: Redis when ``REDIS_URL`` is set, else the SQLite file ``JOBS_DB``. Jobs
    keep their outcome in the database, so huey stores no results."""
    options = {"immediate": bool(config["JOBS_IMMEDIATE"]), "results": False}
    if config["REDIS_URL"]:
        pool = redis.ConnectionPool.from_url(config["REDIS_URL"], **REDIS_TIMEOUTS)
        return RedisHuey("linezero", connection_pool=pool, **options)
    return SqliteHuey("linezero", filename=config["JOBS_DB"], **options)


class Jobs:
    """The app's huey instance and its tasks by job name."""

    def __init__(self, app: Flask):
        self.huey = make_huey(app.config)
        self.tasks: dict[str, TaskWrapper] = {}
        self._local: tuple[int, ThreadPoolExecutor] | None = None   # (pid, its executor)
        for spec in JOBS.values():
            run = _in_app_context(app, spec)
            if spec.every_setting:
                minutes = every_minutes(app.config[spec.every_setting])
                task = self.huey.periodic_task(_due_every(minutes), name=spec.name)(run)
            else:
                task = self.huey.task(name=spec.name)(run)
            self.tasks[spec.name] = task

    def enqueue(self, name: str, *args) -> None:
        self.tasks[name](*args)

    def run_locally(self, name: str, *args) -> None:
        """Run job ``name`` in this process's own job thread (one per process, made on first use:
        a forked worker gets its own), in an app context, as the consumer would."""
        if self._local is None or self._local[0] != os.getpid():
            self._local = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="kb-jobs-local"))
        self._local[1].submit(self._run_logged, name, *args)

    def _run_logged(self, name: str, *args) -> None:
        try:
            self.tasks[name].call_local(*args)
        except Exception:
            log.exception("job %s%r failed in this process", name, args)

    def pending(self) -> int:
        """Jobs waiting to run now or later (retries included)."""
        return self.huey.pending_count() + self.huey.scheduled_count()


def init_app(app: Flask) -> None:
    # The modules that declare jobs (imported here so that every app registers them all).
    from kb_server import webhooks  # noqa: F401
    from kb_server.analytics import today  # noqa: F401
    from kb_server.console import kcs  # noqa: F401
    from kb_server.tickets import delivery, service, sla_watch  # noqa: F401
    app.extensions["jobs"] = Jobs(app)


def jobs() -> Jobs:
    return current_app.extensions["jobs"]


def overdue_before() -> dt.datetime:
    """Work due before this moment and still waiting lost its job (``JOBS_REQUEUE_SECONDS``)."""
    return utcnow() - dt.timedelta(seconds=current_app.config["JOBS_REQUEUE_SECONDS"])


# --- queueing after the commit -------------------------------------------------------------------
def after_commit(name: str, *args) -> None:
    """Queue job ``name`` once the session's transaction commits (dropped on rollback)."""
    pending = db.session.info.setdefault(PENDING_KEY, [])
    pending.append((current_app.extensions["jobs"], name, args))


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    for queue, name, args in session.info.pop(PENDING_KEY, []):
        try:
            queue.enqueue(name, *args)
        except Exception as error:   # the change is committed: say loudly that its job is not queued
            if not JOBS[name].local:
                log.exception("job %s%r could not be queued", name, args)
                continue
            log.warning("job %s%r could not be queued (%s): run in this process", name, args, error)
            queue.run_locally(name, *args)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(PENDING_KEY, None)


# --- consumers -----------------------------------------------------------------------------------
class EmbeddedConsumer(Consumer):
    """A consumer that runs beside a server (``kb serve``) or a test: worker threads and the
    scheduler only; the host process keeps its own signal handlers."""

    def _set_signal_handlers(self) -> None:
        pass


def start_consumer(app: Flask, workers: int | None = None) -> EmbeddedConsumer:
    """Start processing the app's jobs in threads of this process; ``.stop(graceful=True)``."""
    consumer = EmbeddedConsumer(app.extensions["jobs"].huey, workers=workers or app.config["JOBS_WORKERS"],
                                worker_type="thread", periodic=True, check_worker_health=False,
                                scheduler_interval=1, max_delay=POLL_MAX_SECONDS)
    consumer.start()
    return consumer


def run_worker(app: Flask, workers: int | None = None, periodic_tasks: bool = True) -> None:
    """``kb worker``: huey's own consumer in the foreground (SIGTERM/SIGINT stop it)."""
    consumer = app.extensions["jobs"].huey.create_consumer(
        workers=workers or app.config["JOBS_WORKERS"], worker_type="thread",
        periodic=periodic_tasks, scheduler_interval=1, max_delay=POLL_MAX_SECONDS)
    consumer.run()
