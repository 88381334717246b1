"""A throwaway PostgreSQL cluster: initdb in a temporary folder, a free loopback port, gone after.

Used by the tests that need a real PostgreSQL and by ``kb eval --peer postgres`` when no
PostgreSQL is configured. PostgreSQL refuses to run as root, so when we are root the server
runs as the ``postgres`` system user that Debian's package creates.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

SERVER_USER = "postgres"


class ClusterUnavailable(RuntimeError):
    """PostgreSQL's server programs are not installed (Debian: ``apt-get install postgresql``)."""


def bin_dir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``: on PATH, else Debian's versioned folder."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda p: int(Path(p).parent.parent.name))
    if not versions:
        raise ClusterUnavailable("PostgreSQL is not installed: initdb and pg_ctl were not found")
    return Path(versions[-1]).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *command] if os.geteuid() == 0 else command


def _hand_over(folder: Path) -> None:
    """Let the server user own the cluster folder when we are root."""
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(folder, user.pw_uid, user.pw_gid)


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command[:2])} failed: {done.stderr.strip()[-500:]}")


class ClusterURL(str):
    """A temporary cluster's SQLAlchemy URL that can also stop and start its server (the
    fault tests restart PostgreSQL under load)."""

    programs: Path
    data: Path
    options: str

    def start(self) -> None:
        _run([str(self.programs / "pg_ctl"), "-D", str(self.data), "-o", self.options, "-w", "-l",
              str(self.data / "server.log"), "start"])

    def stop(self, mode: str = "fast") -> None:
        _run([str(self.programs / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])


@contextmanager
def temporary_cluster(database: str = "kb") -> Iterator[ClusterURL]:
    """Start a cluster, create ``database`` and yield its SQLAlchemy URL (psycopg 3)."""
    programs = bin_dir()
    with tempfile.TemporaryDirectory(prefix="kb-pg-") as tmp:
        folder = Path(tmp)
        os.chmod(folder, 0o755)
        data = folder / "data"
        data.mkdir()
        _hand_over(data)
        port = free_port()
        _run([str(programs / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
              "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        url = ClusterURL(f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}")
        url.programs, url.data = programs, data
        url.options = f"-h 127.0.0.1 -p {port} -k {data} -c fsync=off -c full_page_writes=off -c max_connections=300"
        url.start()
        try:
            _run([str(programs / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
                  "postgres", database])
            yield url
        finally:
            url.stop("immediate")
