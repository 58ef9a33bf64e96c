"""Structured logs: one JSON object per line on stdout (or a console format).

Every record carries ``request_id``, ``trace_id`` and ``span_id`` from the
request context. Keys that may hold secrets or user text are redacted unless
``LOG_PAYLOADS=true`` (secrets are always redacted).
"""

from __future__ import annotations

import json
import logging
import sys
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


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            "logger": record.name,
            "request_id": current_request_id(),
            "trace_id": current_trace_id(),
            "span_id": current_span_id(),
        }
        run_id = run_id_var.get()
        if run_id:
            entry["run_id"] = run_id
        entry.update(redact(_extra_fields(record)))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


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
