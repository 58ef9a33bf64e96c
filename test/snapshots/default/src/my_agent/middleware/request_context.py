"""The request's context, its headers and its access line, in one ASGI step.

- ``X-Request-ID``: echoed when it matches ``^[A-Za-z0-9._-]{1,128}$``, else a new one.
- ``traceparent``: a valid incoming one is continued (same trace id, new span id);
  otherwise a new trace starts. With OpenTelemetry the active span's ids win.
- ``X-Request-ID``, ``X-Trace-Id`` and ``Server-Timing`` on every response.
- Counts requests in flight for the drain on SIGTERM.
- One access line per request (``access_log.py``) once it has ended.
- The last line of defence: an exception escaping the app becomes the
  contract's 500 body (when no response has started) and is logged with the
  trace id, never sent to the client.

One wrapper instead of a context middleware around an access-log middleware:
each ASGI layer adds a call and a ``send`` wrapper to every message.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
import uuid
from typing import Any

from .. import lifecycle, observability
from ..context import access_fields_var, request_id_var, span_id_var, trace_id_var
from ..web.errors import InternalError
from . import ASGIApp, Message, Receive, Scope, Send
from .access_log import log_request
from .errors import send_error

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_OWN_HEADERS = (b"x-request-id", b"x-trace-id", b"server-timing")

error_logger = logging.getLogger(__name__)


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


def _request_headers(scope: Scope) -> tuple[str | None, str | None]:
    """The first ``X-Request-ID`` and ``traceparent``, in one pass over the headers."""
    request_id = traceparent = None
    for key, value in scope.get("headers", []):
        if key == b"x-request-id":
            if request_id is None:
                request_id = bytes(value).decode("latin-1")
        elif key == b"traceparent" and traceparent is None:
            traceparent = bytes(value).decode("latin-1")
    return request_id, traceparent


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, state: lifecycle.Lifecycle | None = None) -> None:
        self.app = app
        self.state = state or lifecycle.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming, traceparent = _request_headers(scope)
        request_id = incoming if incoming and REQUEST_ID.match(incoming) else uuid.uuid4().hex
        ids = observability.current_trace_ids()
        if ids is None:
            parent = parse_traceparent(traceparent)
            trace_id = parent[0] if parent else new_trace_id()
            span_id = new_span_id()
        else:
            trace_id, span_id = ids
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["trace_id"] = trace_id
        fields: dict[str, Any] = {}
        tokens = (
            request_id_var.set(request_id),
            trace_id_var.set(trace_id),
            span_id_var.set(span_id),
            access_fields_var.set(fields),
        )
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
                duration_ms = (time.perf_counter() - started) * 1000
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in _OWN_HEADERS
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
        except Exception:
            if response_started:
                # The framework already answered (and logged) it.
                error_logger.debug("exception after the response started", exc_info=True)
            else:
                error_logger.exception("unhandled error")
                await send_error(send_with_headers, InternalError())
                status = 500
        finally:
            access_fields_var.reset(tokens[3])
            log_request(scope, status, (time.perf_counter() - started) * 1000, fields)
            self.state.request_finished()
            span_id_var.reset(tokens[2])
            trace_id_var.reset(tokens[1])
            request_id_var.reset(tokens[0])
