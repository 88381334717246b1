"""Log lines as text or JSON (``KB_LOG_FORMAT``)."""
from __future__ import annotations

import json
import logging

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
