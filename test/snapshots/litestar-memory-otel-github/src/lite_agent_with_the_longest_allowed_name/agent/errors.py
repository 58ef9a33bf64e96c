"""Errors that map to the contract's error codes and HTTP statuses.

Raised by the core and the middleware; every framework layer renders them with
``asgi.errors.error_body`` so the JSON shape is the same everywhere.
"""

from __future__ import annotations

from typing import Any, ClassVar


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


class UpstreamTimeout(AgentError):
    status = 504
    code = "upstream_timeout"
    default_message = "the model or the agent turn timed out"


class InternalError(AgentError):
    pass


STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
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
