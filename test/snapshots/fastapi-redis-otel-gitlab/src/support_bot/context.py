"""Per-request identifiers, carried by contextvars so logs and errors can read them."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
trace_id_var: ContextVar[str | None] = ContextVar("trace_id", default=None)
span_id_var: ContextVar[str | None] = ContextVar("span_id", default=None)
# The background run being executed (runs/execute.py), on every log line of the run.
run_id_var: ContextVar[str | None] = ContextVar("run_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()


def current_trace_id() -> str | None:
    return trace_id_var.get()


def current_span_id() -> str | None:
    return span_id_var.get()


# The fields of the request's access line that the handling adds (an agent turn's
# session, tokens and tool calls): one line per turn instead of two.
access_fields_var: ContextVar[dict[str, Any] | None] = ContextVar("access_fields", default=None)


def add_access_fields(fields: dict[str, Any]) -> bool:
    """Put ``fields`` on the current request's access line; False outside a request."""
    line = access_fields_var.get()
    if line is None:
        return False
    line.update(fields)
    return True
