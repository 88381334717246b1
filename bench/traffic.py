"""``make load``: mixed search / suggest / article / events / contact traffic from locust
(``bench/locustfile.py``) against a two-node deployment (``bench/deploy.py``: 2 nodes x 2
workers on PostgreSQL and Redis, the bundled knowledge base, keyword search); then every
contact accepted is counted as a ticket in the database.

Prints JSON: throughput, p50/p95/p99 per endpoint, 5xx, contacts accepted vs tickets stored,
and the machine's load average (the figures depend on what else the machine runs).

    python -m bench.traffic [--users 16] [--seconds 180] [--nodes 2] [--workers 2]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from bench.deploy import deployment

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
DRAIN_SECONDS = 60


def run_locust(urls: list[str], users: int, seconds: int, out: Path) -> dict:
    env = {**os.environ, "LZ_NODES": ",".join(urls), "LZ_RESULT": str(out / "counts.json")}
    subprocess.run([sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
                    "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--csv",
                    str(out / "locust"), "--only-summary", "--stop-timeout", "10",
                    "--exit-code-on-error", "0"],
                   env=env, check=True, capture_output=True, text=True)
    return json.loads((out / "counts.json").read_text())


def endpoint_stats(out: Path) -> dict:
    """Per endpoint (and ``Aggregated``): requests, failures, rps and latency percentiles."""
    stats = {}
    with open(out / "locust_stats.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            stats[row["Name"]] = {"requests": int(row["Request Count"]),
                                  "failures": int(row["Failure Count"]),
                                  "rps": round(float(row["Requests/s"]), 1),
                                  "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]),
                                  "p99_ms": float(row["99%"])}
    return stats


def contact_tickets(database: str) -> int:
    engine = sa.create_engine(database)
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM ticket WHERE kind = 'contact'")).scalar()
    engine.dispose()
    return int(count)


def wait_for_tickets(database: str, expected: int) -> int:
    """The contact tickets once ``expected`` are stored (spooled ones are stored by the nodes'
    flushers), or what there is after ``DRAIN_SECONDS``."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while (count := contact_tickets(database)) < expected and time.monotonic() < deadline:
        time.sleep(1)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description="mixed traffic against a two-node deployment")
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("load-report"))
    args = parser.parse_args()
    args.out.mkdir(exist_ok=True)
    with deployment(nodes=args.nodes, workers=args.workers) as deployed:
        load_before = os.getloadavg()
        counts = run_locust(deployed.urls, args.users, args.seconds, args.out)
        load_after = os.getloadavg()
        tickets = wait_for_tickets(deployed.database, counts.get("contacts_accepted", 0))
    stats = endpoint_stats(args.out)
    report = {"nodes": args.nodes, "workers_per_node": args.workers, "users": args.users,
              "seconds": args.seconds, "throughput_rps": stats.get("Aggregated", {}).get("rps"),
              "endpoints": stats, "5xx": counts.get("5xx", 0),
              "contacts_accepted": counts.get("contacts_accepted", 0),
              "contacts_refused": counts.get("contacts_refused", 0), "contact_tickets": tickets,
              "cpus": os.cpu_count(), "load_average_1m_before": round(load_before[0], 2),
              "load_average_1m_after": round(load_after[0], 2)}
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    lost = report["contacts_accepted"] - tickets
    sys.exit(1 if report["5xx"] or lost > 0 else 0)


if __name__ == "__main__":
    main()
