"""A production-shaped deployment on loopback: N ``kb serve`` nodes (each with its own instance
folder and index) and one ``kb worker`` on a throwaway PostgreSQL and Redis.

Used by the fault tests (``tests/test_faults.py``), ``make load`` (``bench/traffic.py``) and
``make fuzz`` (``bench/fuzz.py``); ``python -m bench.deploy --nodes 2 --workers 2`` keeps one
running until Ctrl-C. Rate limits are raised so the load is not refused; everything else is
the production configuration.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from kb_server.pgcluster import ClusterURL, free_port, temporary_cluster

ROOT = Path(__file__).resolve().parent.parent
KB = [sys.executable, "-c", "from kb_server.cli import main; main()"]
STAFF_EMAIL = "fuzz-admin@example.com"
READY_SECONDS = 120


@dataclass
class Node:
    """One ``kb serve`` process tree (a parent and its forked workers)."""

    port: int
    instance: Path
    env: dict
    workers: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.instance / "serve.log", "ab")
        self.process = subprocess.Popen(
            [*KB, "serve", "--port", str(self.port), "--workers", str(self.workers), "--threads", "8"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process tree (SIGKILL: the parent and every worker, no clean-up)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(30)

    def wait_ready(self, seconds: float = READY_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"node {self.url} exited: {self.log_tail()}")
            if get_status(f"{self.url}/readyz") == 200:
                return
            time.sleep(0.2)
        raise TimeoutError(f"node {self.url} not ready after {seconds}s: {self.log_tail()}")

    def log_tail(self) -> str:
        return (self.instance / "serve.log").read_text(errors="replace")[-2000:]


@dataclass
class Deployment:
    database: ClusterURL
    redis: str
    redis_process: subprocess.Popen
    nodes: list[Node]
    env: dict
    root: Path
    worker: subprocess.Popen | None = None
    staff_token: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def kb(self, *args: str, node: int = 0, stdin: str = "") -> str:
        """Run a ``kb`` command with node ``node``'s settings; its standard output."""
        done = subprocess.run([*KB, *args], env=self.nodes[node].env, input=stdin,
                              capture_output=True, text=True, timeout=600)
        if done.returncode:
            raise RuntimeError(f"kb {' '.join(args)} failed: {done.stderr[-1500:]}")
        return done.stdout

    def stop_redis(self) -> None:
        self.redis_process.terminate()
        self.redis_process.wait(10)


def get_status(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def node_env(base: dict, root: Path, number: int) -> dict:
    """Node ``number``'s settings: its own instance folder and articles folder (a node keeps
    its copy of the knowledge base in step with the database: README "Several nodes")."""
    folder = root / f"node{number}"
    return {**base, "KB_INSTANCE_DIR": str(folder), "KB_ARTICLES_DIR": str(folder / "articles")}


@contextmanager
def redis_server(folder: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(10)


@contextmanager
def deployment(nodes: int = 2, workers: int = 2, articles: Path | None = None,
               root: Path | None = None, staff: bool = True, **settings: str) -> Iterator[Deployment]:
    """Start PostgreSQL, Redis, ``nodes`` servers (one after the other: the first migrates the
    database and imports the article files) and a job worker; stop them all afterwards.
    ``staff``: first an admin and its API token (``staff_token``: the fuzzer's).
    ``settings``: more ``KB_*`` environment variables."""
    with ExitStack() as stack:
        if root is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kb-deploy-")))
        database = stack.enter_context(temporary_cluster())
        redis, redis_process = stack.enter_context(redis_server(root))
        base = {**os.environ, "PYTHONPATH": str(ROOT), "KB_DATABASE_URL": database,
                "KB_REDIS_URL": redis, "KB_EMBEDDER": "none", "KB_SEARCH_MODE": "keyword",
                "KB_SECRET_KEY": "deploy-secret", "KB_JOBS_IN_SERVE": "false",
                "KB_RATELIMIT": "1000000/minute",
                "KB_RATELIMIT_CONTACT": "1000000/minute", **settings}
        env = node_env(base, root, 0)
        deployed = Deployment(database, redis, redis_process, [], env, root)
        for number in range(nodes):
            node_folder = root / f"node{number}"
            shutil.copytree(articles or ROOT / "articles", node_folder / "articles", dirs_exist_ok=True)
            deployed.nodes.append(Node(free_port(), node_folder, node_env(base, root, number), workers))
        if staff:
            deployed.kb("init")
            deployed.kb("user", "add", STAFF_EMAIL, "--role", "admin", "--password-stdin",
                        stdin="fuzz-password-123456\n")
            deployed.staff_token = deployed.kb("user", "token", STAFF_EMAIL).split()[-1]
        stack.callback(_stop_all, deployed)
        for node in deployed.nodes:
            node.start()
            node.wait_ready()
        log = open(root / "worker.log", "ab")
        deployed.worker = subprocess.Popen([*KB, "worker"], env=env, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        yield deployed


def _stop_all(deployed: Deployment) -> None:
    for node in deployed.nodes:
        node.kill(signal.SIGTERM)
    if deployed.worker is not None and deployed.worker.poll() is None:
        deployed.worker.terminate()
        deployed.worker.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with deployment(args.nodes, args.workers) as deployed:
        print(json.dumps({"nodes": deployed.urls, "database": deployed.database,
                          "redis": deployed.redis, "staff_token": deployed.staff_token}), flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
