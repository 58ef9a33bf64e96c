from __future__ import annotations

import json
import logging

import pytest

from support_bot.context import (
    request_id_var,
    span_id_var,
    trace_id_var,
)
from support_bot.logs import (
    REDACTED,
    ConsoleFormatter,
    JsonFormatter,
    configure_logging,
    log_fields,
    redact,
)


def make_record(message: str = "hello", **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("app.test", logging.WARNING, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_lines_carry_the_contract_fields() -> None:
    tokens = (request_id_var.set("rid"), trace_id_var.set("a" * 32), span_id_var.set("b" * 16))
    try:
        line = JsonFormatter().format(make_record(route="/v1/chat", status=200))
    finally:
        span_id_var.reset(tokens[2])
        trace_id_var.reset(tokens[1])
        request_id_var.reset(tokens[0])
    entry = json.loads(line)
    assert entry["timestamp"].endswith("+00:00")
    assert entry["level"] == "warning"
    assert entry["event"] == "hello"
    assert entry["logger"] == "app.test"
    assert (entry["request_id"], entry["trace_id"], entry["span_id"]) == ("rid", "a" * 32, "b" * 16)
    assert entry["route"] == "/v1/chat"
    assert entry["status"] == 200


def test_secrets_and_payloads_are_redacted() -> None:
    fields = {
        "authorization": "Bearer x",
        "api_key": "k",
        "message": "private",
        "nested": {"LLM_API_KEY": "s"},
        "ok": 1,
    }
    assert redact(fields) == {
        "authorization": REDACTED,
        "api_key": REDACTED,
        "message": REDACTED,
        "nested": {"LLM_API_KEY": REDACTED},
        "ok": 1,
    }
    with_payloads = redact(fields, log_payloads=True)
    assert with_payloads["message"] == "private"
    assert with_payloads["authorization"] == REDACTED
    line = JsonFormatter().format(make_record(api_key="sk-123"))
    assert "sk-123" not in line


def test_exceptions_are_formatted() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    assert "ValueError" in json.loads(JsonFormatter().format(record))["exception"]
    assert "ValueError" in ConsoleFormatter().format(record)


def test_console_format() -> None:
    token = request_id_var.set("rid")
    try:
        line = ConsoleFormatter().format(make_record(status=200))
    finally:
        request_id_var.reset(token)
    assert "WARNING" in line
    assert "request_id=rid" in line
    assert "status=200" in line
    assert "hello" in ConsoleFormatter().format(make_record())


def test_configure_logging(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("warning", "json")
        logging.getLogger("app.x").warning("to stdout", extra={"n": 1})
        entry = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert entry["event"] == "to stdout"
        assert logging.getLogger("uvicorn.access").disabled
        configure_logging("info", "console", log_payloads=True)
        logging.getLogger("app.x").info("readable", extra={"message_text": "x"})
        assert "readable" in capsys.readouterr().out
    finally:
        configure_logging("info", "json")
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_log_fields_writes_the_same_line_without_a_log_record(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logger = logging.getLogger("app.fields")
    fields = {"route": "/v1/chat", "status": 200, "api_key": "k", "answer": "text"}
    try:
        configure_logging("info", "json")
        tokens = (request_id_var.set("rid"), trace_id_var.set("a" * 32))
        try:
            logger.info("request", extra=fields)
            through_logging = json.loads(capsys.readouterr().out)
            with monkeypatch.context() as patched:
                # Only the JSON handler would see the line: it is written without a LogRecord.
                patched.setattr(logging.Logger, "makeRecord", None)
                log_fields(logger, logging.INFO, "request", fields)
                log_fields(logger, logging.DEBUG, "below the level", fields)
            direct = json.loads(capsys.readouterr().out)
            # Another handler on the way (a test's capture): through logging, so it sees it.
            capture = _Capture()
            root.addHandler(capture)
            log_fields(logger, logging.ERROR, "request", {"status": 500})
            root.removeHandler(capture)
        finally:
            trace_id_var.reset(tokens[1])
            request_id_var.reset(tokens[0])
        for entry in (through_logging, direct):
            del entry["timestamp"]
        assert direct == through_logging
        assert direct["api_key"] == REDACTED
        assert direct["answer"] == REDACTED
        assert (direct["request_id"], direct["trace_id"]) == ("rid", "a" * 32)
        assert [(r.levelno, r.status) for r in capture.records] == [(logging.ERROR, 500)]  # type: ignore[attr-defined]
        assert json.loads(capsys.readouterr().out)["level"] == "error"
    finally:
        configure_logging("info", "json")
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
