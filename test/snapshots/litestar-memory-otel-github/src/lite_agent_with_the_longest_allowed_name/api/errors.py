"""Every error, whoever raised it, leaves as the contract's JSON error shape.

Litestar's own exceptions are mapped onto the contract: a body that is not
JSON (``SerializationException`` behind a 400) is ``bad_request``, a schema
violation (``ValidationException``, 400 in Litestar) is 422 ``validation_error``
with ``details`` naming each field, routing errors are 404/405.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.types import ExceptionHandlersMap

from ..web.errors import (
    AgentError,
    BadRequest,
    InternalError,
    ValidationFailed,
    error_payload,
    status_error_payload,
)

logger = logging.getLogger(__name__)

AnyRequest = Request[Any, Any, Any]


def error_response(exc: AgentError) -> Response[dict[str, Any]]:
    return Response(
        error_payload(exc.code, exc.message, exc.details),
        status_code=exc.status,
        headers=exc.headers,
        media_type="application/json",
    )


def _field(item: dict[str, Any]) -> str:
    key = item.get("key")
    if not key or key == "data":  # the whole body
        return "body"
    return str(key)


def _reason(item: dict[str, Any]) -> str:
    key = item.get("key")
    message = str(item.get("message") or "invalid")
    if key == "data" and item.get("source") == "body":
        return "Field required"  # no body at all: Litestar names its handler parameter
    return message


def validation_details(exc: ValidationException) -> list[dict[str, Any]]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    details = [
        {"field": _field(item), "reason": _reason(item)} for item in extra if isinstance(item, dict)
    ]
    return details or [{"field": "body", "reason": "invalid request body"}]


def handle_agent_error(request: AnyRequest, exc: Exception) -> Response[dict[str, Any]]:
    return error_response(cast(AgentError, exc))


def handle_http_exception(request: AnyRequest, exc: Exception) -> Response[dict[str, Any]]:
    exc = cast(HTTPException, exc)
    if isinstance(exc, ValidationException):
        return error_response(ValidationFailed(details=validation_details(exc)))
    if exc.status_code == 400 and isinstance(exc.__cause__, SerializationException):
        return error_response(BadRequest("malformed JSON body"))
    if exc.status_code >= 500:
        return handle_unexpected(request, exc)
    return Response(
        status_error_payload(exc.status_code, exc.detail),
        status_code=exc.status_code,
        headers=dict(exc.headers or {}),
        media_type="application/json",
    )


def handle_unexpected(request: AnyRequest, exc: Exception) -> Response[dict[str, Any]]:
    logger.error("unhandled error", exc_info=exc, extra={"error_type": type(exc).__name__})
    return error_response(InternalError())


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    AgentError: handle_agent_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
