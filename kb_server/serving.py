"""Serving Linezero in production: waitress, in one or several worker processes.

``serve(app_factory, host, port, workers, threads)`` creates the app once (index, catalog and
database set up in this process), binds the listening socket, then

* ``workers == 1``: runs waitress here, with ``threads`` request threads;
* ``workers > 1``: forks ``workers`` processes that each run waitress with ``threads`` threads
  on the same listening socket (the kernel hands every new connection to one of them). The
  loaded index is shared copy-on-write, so a worker costs little memory. This process only
  watches them: it replaces a worker that dies and stops them all on SIGTERM or SIGINT.

Once the app is created, its objects (the catalog, the postings, the caches filled so far) are
frozen out of the garbage collector (``gc.freeze``): a full collection would otherwise walk
all of them, a pause that grows with the knowledge base (~0.1 s at 10,000 articles) and comes
back as a request's new objects pile up; and a forked worker's collections would write to the
pages it shares with its parent.

Waitress and Flask are pure Python: one process runs one request at a time (the GIL), so
several workers are how a server uses several CPUs. Each worker keeps its own rate-limit
counters unless ``KB_REDIS_URL`` names a shared Redis (``kb_server.ratelimits``). Workers
need ``os.fork`` (Linux, macOS); elsewhere use ``workers=1``.
"""
from __future__ import annotations

import errno
import gc
import logging
import os
import signal
import socket
import sys
import time
from typing import Callable

import waitress
from flask import Flask

from kb_server import intake, metrics

log = logging.getLogger(__name__)

RESTART_DELAY_S = 1.0   # before replacing a worker that died (no busy loop if it keeps dying)


def default_workers() -> int:
    """One worker process per CPU."""
    return os.cpu_count() or 1


class CannotListen(Exception):
    """The address cannot be listened on (the port is taken, or not ours to take)."""


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (``port`` 0 = any free port), not listening yet:
    connections are refused until ``serve`` listens; ``CannotListen`` says why it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise _cannot_listen(exc, host, port) from None
    return sock


def listen(sock: socket.socket) -> None:
    """Start listening on a socket from ``bind`` (``CannotListen`` if another server took the
    port meanwhile)."""
    host, port = sock.getsockname()[:2]
    try:
        sock.listen(1024)
    except OSError as exc:
        raise _cannot_listen(exc, host, port) from None


def _cannot_listen(exc: OSError, host: str, port: int) -> CannotListen:
    reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
    return CannotListen(f"port {port} on {host} {reason}: choose another with --port "
                        "(make run PORT=...), or the address with --host")


def run_waitress(app: Flask, sock: socket.socket, threads: int) -> None:
    """Serve ``app`` on ``sock`` in this process until it is stopped (SIGTERM: the events it
    buffers are written first, ``kb_server.intake``)."""
    # "Task queue depth is N" whenever all threads are busy: expected under load, not a problem
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = waitress.create_server(app, sockets=[sock], threads=threads,
                                    connection_limit=1024, channel_timeout=30)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    try:
        server.run()
    except SystemExit:
        pass
    finally:
        intake.close(app)


def _stop_on_signal(signum, frame) -> None:
    raise SystemExit(0)


def _after_fork(app: Flask) -> None:
    """A forked worker must not reuse the database connections of the process it came from."""
    from kb_server.extensions import db
    with app.app_context():
        db.engine.dispose(close=False)


def _fork_worker(app: Flask, sock: socket.socket, threads: int) -> int:
    # the parent's SIGTERM handler (``run_workers``' stop) must never run in a worker: one told to
    # stop while it starts would go on serving and its parent wait for it forever. SIGTERM is
    # held until the worker has the default action (a signal meanwhile is delivered then).
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    pid = os.fork()
    if pid:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        return pid
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C: the parent stops the workers
        _after_fork(app)
        run_waitress(app, sock, threads)
    except BaseException:
        log.exception("worker %d failed", os.getpid())
        code = 1
    finally:
        sys.stderr.flush()
        os._exit(code)


def run_workers(app: Flask, sock: socket.socket, workers: int, threads: int,
                after_start: Callable[[], None] | None = None) -> None:
    """Fork ``workers`` waitress processes on ``sock`` and keep them running until SIGTERM
    or SIGINT, then stop them. ``after_start`` runs in this process once they are forked."""
    children = {_fork_worker(app, sock, threads) for _ in range(workers)}
    if after_start is not None:
        after_start()
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            _kill(pid)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while children:
        pid, status = os.wait()
        children.discard(pid)
        if not stopping:
            log.error("worker %d exited (status %d), starting another", pid, status)
            time.sleep(RESTART_DELAY_S)
            if not stopping:
                children.add(_fork_worker(app, sock, threads))


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def serve(app_factory: Callable[[], Flask], host: str = "127.0.0.1", port: int = 5000,
          workers: int = 1, threads: int = 8, on_ready: Callable[[int], None] | None = None,
          after_start: Callable[[], None] | None = None, sock: socket.socket | None = None) -> None:
    """Create the app, listen on ``host:port`` (or on ``sock``, bound by ``bind``) and serve it
    (see module docstring).

    ``on_ready(port)`` is called with the bound port once the app is ready to answer;
    ``after_start()`` once the workers are forked (start background threads there: a forked
    process keeps no thread of its parent).
    """
    app = app_factory()
    gc.collect()
    gc.freeze()   # (see module docstring)
    sock = sock or bind(host, port)
    listen(sock)
    bound = sock.getsockname()[1]
    log.info("serving on http://%s:%d/ with %d worker(s) x %d threads", host, bound, workers, threads)
    if on_ready is not None:
        on_ready(bound)
    if workers <= 1:
        if after_start is not None:
            after_start()
        run_waitress(app, sock, threads)
    else:
        metrics.use_multiprocess_dir()   # /metrics adds up the samples of every worker
        run_workers(app, sock, workers, threads, after_start)
