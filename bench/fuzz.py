"""``make fuzz``: schemathesis against the served OpenAPI document of a two-node deployment
(``bench/deploy.py``: PostgreSQL, Redis, 2 nodes x 2 workers), the public and the staff API (a
staff token), every check on; prints the requests sent per node, the 5xx and the failures as
JSON and exits non-zero when anything failed.

    python -m bench.fuzz [--examples 150] [--nodes 2]
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from bench.deploy import deployment

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")


def fuzz_node(url: str, token: str, examples: int, report: Path) -> dict:
    """Run schemathesis against one node; the requests it sent (from its HAR report)."""
    har = report.with_suffix(".har")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{url}/api/v1/openapi.json",
         "--url", url, "-H", f"Authorization: Bearer {token}", "--checks", CHECKS,
         "--max-examples", str(examples), "--seed", "13", "--continue-on-failure",
         "--generation-database", "none", "--report", "har", "--report-har-path", str(har),
         "--no-color", "--request-timeout", "30"],
        capture_output=True, text=True)
    report.write_text(done.stdout + done.stderr)
    entries = json.loads(har.read_text())["log"]["entries"] if har.exists() else []
    statuses = [entry["response"]["status"] for entry in entries]
    return {"url": url, "requests": len(entries), "seconds": round(time.monotonic() - started, 1),
            "5xx": sum(1 for status in statuses if status >= 500),
            "exit_code": done.returncode, "summary": _summary(done.stdout)}


def _summary(output: str) -> str:
    lines = [line for line in output.splitlines() if re.search(r"\b(passed|failed|error)", line)]
    return lines[-1].strip(" =") if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description="schemathesis over a two-node deployment")
    parser.add_argument("--examples", type=int, default=150, help="examples per operation and node")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("fuzz-report"))
    args = parser.parse_args()
    args.out.mkdir(exist_ok=True)
    with deployment(nodes=args.nodes, workers=2) as deployed:
        results = [fuzz_node(url, deployed.staff_token, args.examples, args.out / f"node{n}.txt")
                   for n, url in enumerate(deployed.urls)]
    total = {"requests": sum(r["requests"] for r in results), "5xx": sum(r["5xx"] for r in results),
             "nodes": results}
    print(json.dumps(total, indent=2))
    sys.exit(0 if total["5xx"] == 0 and all(r["exit_code"] == 0 for r in results) else 1)


if __name__ == "__main__":
    main()
