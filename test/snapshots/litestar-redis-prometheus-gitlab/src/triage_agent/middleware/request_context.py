"""Request ids, W3C trace context, ``X-Trace-Id`` and ``Server-Timing`` on every response.

- ``X-Request-ID``: echoed when it matches ``^[A-Za-z0-9._-]{1,128}$``, else a new one.
- ``traceparent``: a valid incoming one is continued (same trace id, new span id);
  otherwise a new trace starts. With OpenTelemetry the active span's ids win.
- Counts requests in flight for the drain on SIGTERM.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid

from .. import lifecycle, observability
from ..context import request_id_var, span_id_var, trace_id_var
from . import ASGIApp, Message, Receive, Scope, Send, header

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def parse_traceparent(value: str | None) -> tuple[str, str] | None:
    """(trace_id, parent span id) of a valid ``traceparent``, else None."""
    if not value:
        return None
    match = TRACEPARENT.match(value.strip().lower())
    if not match:
        return None
    version, trace_id, span_id, _flags = match.groups()
    if version == "ff" or trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    return trace_id, span_id


def new_trace_id() -> str:
    return secrets.token_hex(16)


def new_span_id() -> str:
    return secrets.token_hex(8)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, state: lifecycle.Lifecycle | None = None) -> None:
        self.app = app
        self.state = state or lifecycle.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = header(scope, b"x-request-id")
        request_id = incoming if incoming and REQUEST_ID.match(incoming) else uuid.uuid4().hex
        ids = observability.current_trace_ids()
        if ids is None:
            parent = parse_traceparent(header(scope, b"traceparent"))
            trace_id = parent[0] if parent else new_trace_id()
            span_id = new_span_id()
        else:
            trace_id, span_id = ids
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["trace_id"] = trace_id

        tokens = (
            request_id_var.set(request_id),
            trace_id_var.set(trace_id),
            span_id_var.set(span_id),
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                duration_ms = (time.perf_counter() - started) * 1000
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"x-request-id", b"x-trace-id", b"server-timing")
                ]
                headers += [
                    (b"x-request-id", request_id.encode()),
                    (b"x-trace-id", trace_id.encode()),
                    (b"server-timing", f"app;dur={duration_ms:.1f}".encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        self.state.request_started()
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            self.state.request_finished()
            span_id_var.reset(tokens[2])
            trace_id_var.reset(tokens[1])
            request_id_var.reset(tokens[0])
