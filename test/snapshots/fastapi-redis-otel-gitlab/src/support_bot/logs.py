"""Structured logs: one JSON object per line on stdout (or a console format).

Every record carries ``request_id``, ``trace_id`` and ``span_id`` from the
request context. Keys that may hold secrets or user text are redacted unless
``LOG_PAYLOADS=true`` (secrets are always redacted).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

from .context import current_request_id, current_span_id, current_trace_id, run_id_var

REDACTED = "[redacted]"
SECRET_KEYS = frozenset(
    {
        "authorization",
        "api_key",
        "api_keys",
        "x-api-key",
        "x_api_key",
        "llm_api_key",
        "password",
        "token",
        "secret",
        "cookie",
        "database_url",
        "redis_url",
    }
)
PAYLOAD_KEYS = frozenset(
    {"message", "user_message", "prompt", "messages", "answer", "content", "arguments"}
)

# Attributes every LogRecord has; anything else came from ``extra=``.
_RESERVED = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "color_message", "taskName"}

_state = {"log_payloads": False}
# Built once: json.dumps() with options builds an encoder on every call.
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)


def redact(fields: dict[str, Any], *, log_payloads: bool | None = None) -> dict[str, Any]:
    payloads = _state["log_payloads"] if log_payloads is None else log_payloads
    out: dict[str, Any] = {}
    for key, value in fields.items():
        lowered = key.lower()
        if lowered in SECRET_KEYS or (lowered in PAYLOAD_KEYS and not payloads):
            out[key] = REDACTED
        elif isinstance(value, dict):
            out[key] = redact(value, log_payloads=payloads)
        else:
            out[key] = value
    return out


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")}


def _json_entry(
    created: float, level: str, event: str, name: str, fields: dict[str, Any]
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "timestamp": datetime.fromtimestamp(created, tz=UTC).isoformat(timespec="milliseconds"),
        "level": level,
        "event": event,
        "logger": name,
        "request_id": current_request_id(),
        "trace_id": current_trace_id(),
        "span_id": current_span_id(),
    }
    run_id = run_id_var.get()
    if run_id:
        entry["run_id"] = run_id
    entry.update(redact(fields))
    return entry


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = _json_entry(
            record.created,
            record.levelname.lower(),
            record.getMessage(),
            record.name,
            _extra_fields(record),
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(entry)


# The handler configure_logging() installed on the root logger, while it is the only one.
_json_handler: dict[str, logging.StreamHandler[Any] | None] = {"handler": None}


def log_fields(logger: logging.Logger, level: int, event: str, fields: dict[str, Any]) -> None:
    """``logger.log(level, event, extra=fields)``, the same line, for a hot path.

    When the record would reach only the JSON handler that configure_logging()
    installed (no other handler or filter anywhere on its way), the line is
    formatted and written directly: the stdlib's LogRecord, caller lookup and
    handler chain cost several times the formatting itself. Otherwise (a test's
    capture handler, a console format, another handler) it goes through logging.
    """
    handler = _json_handler["handler"]
    root = logging.root
    if (
        handler is None
        or logger.disabled
        or logger.parent is not root
        or logger.handlers
        or logger.filters
        or not logger.propagate
        or root.filters
        or handler.filters
        or len(root.handlers) != 1
        or root.handlers[0] is not handler
    ):
        logger.log(level, event, extra=fields)
        return
    if not logger.isEnabledFor(level) or level < handler.level:
        return
    entry = _json_entry(
        time.time(), logging.getLevelName(level).lower(), event, logger.name, fields
    )
    line = _ENCODER.encode(entry) + handler.terminator
    try:
        with handler.lock:  # type: ignore[union-attr]
            handler.stream.write(line)
            handler.stream.flush()
    except Exception:  # as StreamHandler.emit: a failing stream never fails the caller
        handler.handleError(logging.makeLogRecord({"name": logger.name, "msg": event}))


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        timestamp = datetime.fromtimestamp(record.created, tz=UTC).strftime("%H:%M:%S.%f")[:-3]
        extras = redact(_extra_fields(record))
        request_id = current_request_id()
        if request_id:
            extras = {"request_id": request_id, **extras}
        run_id = run_id_var.get()
        if run_id:
            extras = {"run_id": run_id, **extras}
        tail = " ".join(f"{k}={v}" for k, v in extras.items())
        line = f"{timestamp} {record.levelname:<8} {record.name}: {record.getMessage()}"
        if tail:
            line = f"{line}  {tail}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def configure_logging(
    level: str = "info", fmt: str = "json", *, log_payloads: bool = False
) -> None:
    """Route every logger (ours, uvicorn's, libraries') through one stdout handler."""
    _state["log_payloads"] = log_payloads
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    _json_handler["handler"] = handler if fmt == "json" else None
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # No line prints the thread or process of a record: skip collecting them.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # The access log is ours (one line per request with the route template).
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs full URLs at INFO; keep it quiet unless debugging.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("httpcore").setLevel(max(logging.WARNING, root.level))
    # httpx2 (the mcp SDK's HTTP client) logs every MCP request's URL at INFO the same way.
    logging.getLogger("httpx2").setLevel(max(logging.WARNING, root.level))
