"""Log lines as text or JSON (``KB_LOG_FORMAT``)."""
from __future__ import annotations

import json
import logging
import sys

import pytest

from kb_server import logs
from kb_server.config import load_config


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("kb_server.search", logging.WARNING, __file__, 1, message, (), None)


def test_json_lines_carry_time_level_logger_pid_and_message():
    line = logs.formatter("json").format(record('index "gen-2" failed'))
    data = json.loads(line)
    assert data["level"] == "WARNING" and data["logger"] == "kb_server.search"
    assert data["message"] == 'index "gen-2" failed' and isinstance(data["pid"], int)
    assert data["time"][:2] == "20"


def test_text_is_the_default():
    assert load_config(None)["LOG_FORMAT"] == "text"
    assert logs.formatter("text").format(record("hello")).endswith("WARNING hello")


def test_an_unknown_format_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("KB_LOG_FORMAT", "xml")
    with pytest.raises(Exception, match="KB_LOG_FORMAT"):
        load_config(tmp_path)


def failure(message: str, error: Exception, logger: str = "huey.consumer.Worker") -> logging.LogRecord:
    try:
        raise error
    except Exception:
        return logging.LogRecord(logger, logging.ERROR, __file__, 1, message, (), sys.exc_info())


def test_a_traceback_repeated_in_a_loop_is_written_once_a_minute_with_a_count():
    clock = [0.0]
    repeats = logs.RepeatedTracebacks(window=60, clock=lambda: clock[0])
    down = ConnectionError("Redis is down")
    passed = []
    for second in range(120):            # two minutes of a consumer retrying every half second
        for half in (0, 0.5):
            clock[0] = second + half
            record_ = failure("Error reading from queue", down)
            if repeats.filter(record_):
                passed.append(record_.getMessage())
    assert passed == ["Error reading from queue",
                      "Error reading from queue (119 more like it in the last 60 s)"]


def test_other_failures_and_plain_records_are_not_held_back():
    repeats = logs.RepeatedTracebacks(window=60, clock=lambda: 0.0)
    assert repeats.filter(failure("Error reading from queue", ConnectionError()))
    assert repeats.filter(failure("Error reading schedule.", ConnectionError()))
    assert repeats.filter(failure("Error reading from queue", TimeoutError()))
    assert repeats.filter(failure("Error reading from queue", ConnectionError(), "kb_server.jobs"))
    assert all(repeats.filter(record("job could not be queued")) for _ in range(3))
    assert not repeats.filter(failure("Error reading from queue", ConnectionError()))


def test_the_commands_log_handler_holds_back_repeated_tracebacks(monkeypatch):
    monkeypatch.setattr(logging.root, "handlers", [])
    monkeypatch.setattr(logging.root, "level", logging.root.level)     # restored afterwards
    logs.configure("text")
    try:
        assert any(isinstance(f, logs.RepeatedTracebacks) for f in logging.root.handlers[0].filters)
    finally:
        logging.root.handlers.clear()
