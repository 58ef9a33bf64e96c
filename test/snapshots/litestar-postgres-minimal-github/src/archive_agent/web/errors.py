"""The contract's errors: each class is one error code and its HTTP status.

Raised by the agent, the middleware and the framework layers; every one of
them leaves as ``error_payload()``'s JSON shape, so it is the same everywhere.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from ..context import current_trace_id


class AgentError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details or []
        self.headers = dict(headers or {})
        super().__init__(self.message)


class BadRequest(AgentError):
    status = 400
    code = "bad_request"
    default_message = "malformed request body"


class Unauthorized(AgentError):
    status = 401
    code = "unauthorized"
    default_message = "missing or invalid API key"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class NotFound(AgentError):
    status = 404
    code = "not_found"
    default_message = "not found"


class MethodNotAllowed(AgentError):
    status = 405
    code = "method_not_allowed"
    default_message = "method not allowed"


class RequestTimeout(AgentError):
    status = 408
    code = "request_timeout"
    default_message = "request body not received in time"


class PayloadTooLarge(AgentError):
    status = 413
    code = "payload_too_large"
    default_message = "request body too large"


class UnsupportedMediaType(AgentError):
    status = 415
    code = "unsupported_media_type"
    default_message = "request body must be application/json"


class ValidationFailed(AgentError):
    status = 422
    code = "validation_error"
    default_message = "request validation failed"


class _RetryAfter(AgentError):
    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, headers={"Retry-After": str(self.retry_after)})


class RateLimited(_RetryAfter):
    status = 429
    code = "rate_limited"
    default_message = "rate limit exceeded"


class BudgetExceeded(_RetryAfter):
    status = 429
    code = "budget_exceeded"
    default_message = "daily token budget exhausted"


class UpstreamError(AgentError):
    status = 502
    code = "upstream_error"
    default_message = "the model endpoint failed"


class ShuttingDown(AgentError):
    status = 503
    code = "shutting_down"
    default_message = "the service is shutting down"


class Overloaded(_RetryAfter):
    """MAX_INFLIGHT_TURNS turns are already running in this worker (web/overload.py)."""

    status = 503
    code = "overloaded"
    default_message = "the service is at capacity, retry shortly"


class StoreUnavailable(AgentError):
    """The session store (Redis, Postgres) cannot be reached within STORE_TIMEOUT."""

    status = 503
    code = "store_unavailable"
    default_message = "the session store is unavailable"


class UpstreamTimeout(AgentError):
    status = 504
    code = "upstream_timeout"
    default_message = "the model or the agent turn timed out"


class InternalError(AgentError):
    pass


# The error code of each status, also for the statuses a framework answers itself.
# (503 is also ``overloaded`` and ``store_unavailable``: always raised as their classes.)
STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    502: "upstream_error",
    503: "shutting_down",
    504: "upstream_timeout",
}


def code_for_status(status: int) -> str:
    """The contract code for a bare HTTP status (e.g. a framework's own 404/405)."""
    if status in STATUS_CODES:
        return STATUS_CODES[status]
    return "internal_error" if status >= 500 else "bad_request"


def status_error_payload(status: int, detail: object) -> dict[str, Any]:
    """The error body of a status the framework answered itself (its 404, 405, ...).

    ``detail`` is the framework's message (lower-cased for 404 and 405, whose
    reason phrases the framework capitalises); without one, the code says it.
    """
    code = code_for_status(status)
    if not isinstance(detail, str) or not detail:
        return error_payload(code, code.replace("_", " "))
    return error_payload(code, detail.lower() if status in (404, 405) else detail)


# The statuses /v1/chat and /v1/chat/stream may answer with the error shape
# (the OpenAPI documents of both frameworks list them).
CHAT_ERROR_STATUSES: tuple[int, ...] = (400, 401, 413, 415, 422, 429, 500, 502, 503, 504)


def error_payload(
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    trace_id: str | None = None,
) -> dict[str, Any]:
    """The contract's JSON error body; the trace id defaults to the request's."""
    return {
        "error": {
            "code": code,
            "message": message,
            "trace_id": trace_id or current_trace_id() or "",
            "details": details or [],
        }
    }


def error_body(exc: AgentError) -> bytes:
    """The error body as the frameworks encode theirs: compact, UTF-8, same key order."""
    payload = error_payload(exc.code, exc.message, exc.details)
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
