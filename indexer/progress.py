"""Progress of long work (indexing articles, embedding sections), for people and for health.

One ``Progress`` follows a build through its stages. On a terminal it draws a tqdm bar; in a
log it writes a line every ``interval`` seconds (``embedding sections: 1,200/3,400 (21.3/s,
ETA 1m43s)``) and one when a stage ends. ``snapshot()`` is what ``/api/v1/health`` shows while
the server embeds in the background; with a ``state_file`` the snapshot is also written there
(about once a second), so that other processes (the server's workers) can show it too
(``read_state``).
"""
from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
import time
from typing import Callable

log = logging.getLogger("linezero.progress")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """Counts ``done`` of ``total`` per stage; thread-safe to read while another thread works."""

    def __init__(self, bar: bool = False, interval: float = 10.0,
                 emit: Callable[[str], None] | None = None, clock=time.monotonic,
                 state_file: Path | None = None):
        self.bar = bar
        self.state_file = state_file
        self._last_state = 0.0
        self.interval = interval
        self.emit = emit or log.info
        self.clock = clock
        self.stage_name = ""
        self.done = self.total = 0
        self._started = self._last_line = 0.0
        self._tqdm = None
        self._lock = threading.Lock()

    def stage(self, name: str, total: int) -> None:
        """Start a new stage of ``total`` units (the previous one ends)."""
        self.finish()
        with self._lock:
            self.stage_name, self.done, self.total = name, 0, total
            self._started = self._last_line = self.clock()
        if self.bar and total:
            from tqdm import tqdm
            self._tqdm = tqdm(total=total, desc=name, unit="")
        self._write_state()

    def advance(self, count: int = 1) -> None:
        with self._lock:
            self.done += count
            now = self.clock()
            due = not self.bar and now - self._last_line >= self.interval
            if due:
                self._last_line = now
        if self._tqdm is not None:
            self._tqdm.update(count)
        elif due:
            self.emit(self.line())
        if self.state_file is not None and self.clock() - self._last_state >= 1.0:
            self._write_state()

    def finish(self) -> None:
        """End the current stage: close the bar, or log its final line."""
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
        elif self.stage_name and self.total and not self.bar:
            self.emit(self.line())
        with self._lock:
            self.stage_name, self.done, self.total = "", 0, 0
        if self.state_file is not None:
            self.state_file.unlink(missing_ok=True)

    def _write_state(self) -> None:
        if self.state_file is None:
            return
        self._last_state = self.clock()
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        tmp.write_text(json.dumps({**self.snapshot(), "pid": os.getpid()}), encoding="utf-8")
        os.replace(tmp, self.state_file)

    def snapshot(self) -> dict:
        """``{"stage", "done", "total", "rate", "eta_s"}`` of the stage under way ({} if none)."""
        with self._lock:
            if not self.stage_name:
                return {}
            elapsed = max(self.clock() - self._started, 1e-9)
            rate = self.done / elapsed
            left = self.total - self.done
            eta = left / rate if rate > 0 else None
            return {"stage": self.stage_name, "done": self.done, "total": self.total,
                    "rate": round(rate, 1), "eta_s": round(eta, 1) if eta is not None else None}

    def line(self) -> str:
        state = self.snapshot()
        if not state:
            return ""
        eta = f", ETA {_duration(state['eta_s'])}" if state["eta_s"] and state["done"] < state["total"] else ""
        return (f"{state['stage']}: {state['done']:,}/{state['total']:,} "
                f"({state['rate']:.1f}/s{eta})")


def read_state(path: Path) -> dict:
    """The snapshot another process's ``Progress`` wrote to ``path`` ({} if none, or if that
    process is gone)."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(state.pop("pid")), 0)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return state
