"""Progress of long work: log lines at intervals with rate and ETA, and a snapshot for health."""
from __future__ import annotations

from indexer.index import build_index
from indexer.progress import Progress
from search_helpers import FIXTURE_KB


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_lines_every_interval_with_rate_and_eta():
    clock, lines = Clock(), []
    progress = Progress(interval=10, emit=lines.append, clock=clock)
    progress.stage("embedding sections", 1000)
    for _ in range(4):
        clock.now += 4
        progress.advance(100)
    assert lines == ["embedding sections: 300/1,000 (25.0/s, ETA 28s)"]
    assert progress.snapshot() == {"stage": "embedding sections", "done": 400, "total": 1000,
                                   "rate": 25.0, "eta_s": 24.0}
    progress.finish()
    assert lines[-1] == "embedding sections: 400/1,000 (25.0/s, ETA 24s)"
    assert progress.snapshot() == {}


def test_a_long_eta_reads_in_minutes_and_hours():
    clock, lines = Clock(), []
    progress = Progress(interval=1, emit=lines.append, clock=clock)
    progress.stage("embedding sections", 100_000)
    clock.now = 2
    progress.advance(10)
    assert lines[-1].endswith("(5.0/s, ETA 5h33m)")


def test_build_index_reports_its_stages(tmp_path):
    seen = []

    class Recorder(Progress):
        def stage(self, name, total):
            seen.append((name, total))
            super().stage(name, total)

    report = build_index(FIXTURE_KB, tmp_path / "index", progress=Recorder(emit=lambda line: None))
    assert ("indexing articles", len(report.added)) in seen


def test_health_shows_the_indexing_under_way(app, client):
    progress = app.extensions["indexing"]
    assert client.get("/api/v1/health").get_json()["search"]["indexing"] is None
    progress.stage("embedding sections", 10)
    progress.advance(4)
    indexing = client.get("/api/v1/health").get_json()["search"]["indexing"]
    assert indexing["stage"] == "embedding sections"
    assert (indexing["done"], indexing["total"]) == (4, 10)


def test_another_process_reads_the_progress_from_the_state_file(tmp_path):
    from indexer.progress import read_state
    state = tmp_path / "indexing.json"
    progress = Progress(emit=lambda line: None, state_file=state)
    progress.stage("embedding sections", 50)
    progress.advance(5)
    assert read_state(state)["stage"] == "embedding sections"
    progress.finish()
    assert not state.exists() and read_state(state) == {}


def test_a_state_file_left_by_a_dead_process_is_ignored(tmp_path):
    import json
    import subprocess
    import sys
    from indexer.progress import read_state
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    state = tmp_path / "indexing.json"
    state.write_text(json.dumps({"stage": "embedding sections", "done": 1, "total": 9, "pid": gone.pid}))
    assert read_state(state) == {}
