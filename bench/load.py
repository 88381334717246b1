"""The HTTP load generator of ``kb bench``: keep-alive GET requests from a separate process.

``measure`` runs the load in a child process (``multiprocessing``, spawn), so the clients
never share a GIL with the server or the benchmark. ``run_load`` opens ``clients`` keep-alive
connections to 127.0.0.1 (one thread each, ``http.client``) and sends the given paths in turn
until ``max_requests`` were sent or ``seconds`` have passed; ``run_rounds`` alternates several
such workloads (search, health) so that they are measured under the same conditions.
"""
from __future__ import annotations

import http.client
import itertools
import multiprocessing
import threading
import time
from dataclasses import dataclass, field

import psutil

HOST = "127.0.0.1"   # loopback only: the benchmark never loads another machine
TIMEOUT_S = 30.0


@dataclass
class LoadResult:
    timings: list[float] = field(default_factory=list)   # seconds per successful request
    errors: list[str] = field(default_factory=list)      # "status path" or "Exception path"
    elapsed: float = 0.0                                  # wall time of the whole run
    server_cpu: float = 0.0                               # CPU seconds the server used meanwhile

    @property
    def rps(self) -> float:
        return len(self.timings) / self.elapsed if self.elapsed else 0.0

    @property
    def server_cpu_ms(self) -> float:
        """Server CPU time per completed request: what a request costs, however busy the
        machine is with other work."""
        return 1000 * self.server_cpu / len(self.timings) if self.timings else 0.0


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children (the server's workers)."""
    root = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in (root, *root.children(recursive=True)))


def _is_ok(status: int, body: bytes) -> bool:
    return status == 200 and body.startswith(b"{")


def _client(port: int, next_path, result: LoadResult, lock: threading.Lock) -> None:
    """One keep-alive connection sending requests until ``next_path`` says stop."""
    conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT_S)
    try:
        while (path := next_path()) is not None:
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                result.errors.append(f"{type(exc).__name__} {path}")
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT_S)
                continue
            elapsed = time.perf_counter() - started
            with lock:
                if _is_ok(response.status, body):
                    result.timings.append(elapsed)
                else:
                    result.errors.append(f"{response.status} {path}")
    finally:
        conn.close()


def run_load(port: int, paths: list[str], clients: int, max_requests: int,
             seconds: float) -> LoadResult:
    """GET ``paths`` round-robin over ``clients`` connections (in this process)."""
    lock = threading.Lock()
    cycle = itertools.cycle(paths)
    issued = 0
    result = LoadResult()
    deadline = time.perf_counter() + seconds

    def next_path() -> str | None:
        nonlocal issued
        with lock:
            if issued >= max_requests or time.perf_counter() > deadline:
                return None
            issued += 1
            return next(cycle)

    threads = [threading.Thread(target=_client, args=(port, next_path, result, lock))
               for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = time.perf_counter() - started
    return result


def run_rounds(port: int, server_pid: int, workloads: dict[str, list[str]], clients: int,
               max_requests: int, seconds: float, rounds: int,
               warm_up: bool) -> dict[str, LoadResult]:
    """Each workload (name -> paths) in turn, ``rounds`` times, with ``max_requests`` and
    ``seconds`` shared out over the rounds: other load on the machine that comes and goes
    during the run weighs on every workload alike, so their ratios hold. ``server_pid``: the
    server process, whose CPU time each workload is charged with. ``warm_up``: each
    workload's paths are sent once first, not counted (a server's caches are warm in use)."""
    if warm_up:
        for paths in workloads.values():
            run_load(port, paths, clients, len(paths), seconds)
    results = {name: LoadResult() for name in workloads}
    for number in range(rounds):
        for name, paths in workloads.items():
            share = max_requests // rounds + (number < max_requests % rounds)
            cpu = cpu_seconds(server_pid)
            part = run_load(port, paths, clients, share, seconds / rounds / len(workloads))
            result = results[name]
            result.server_cpu += cpu_seconds(server_pid) - cpu
            result.timings += part.timings
            result.errors += part.errors
            result.elapsed += part.elapsed
    return results


def _child(connection, *args) -> None:
    connection.send(run_rounds(*args))
    connection.close()


def measure(port: int, server_pid: int, workloads: dict[str, list[str]], clients: int,
            max_requests: int, seconds: float, rounds: int = 4,
            warm_up: bool = True) -> dict[str, LoadResult]:
    """``run_rounds`` in a fresh child process; its results sent back through a pipe."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, name="kb-bench-load", daemon=True,
                              args=(sender, port, server_pid, workloads, clients, max_requests, seconds,
                                    rounds, warm_up))
    process.start()
    sender.close()
    try:
        if not receiver.poll(2 * seconds + 2 * TIMEOUT_S * (rounds + 1) * len(workloads)):
            raise RuntimeError("the load generator did not finish")
        return receiver.recv()
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
