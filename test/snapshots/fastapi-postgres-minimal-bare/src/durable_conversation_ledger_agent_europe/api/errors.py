"""Every error, whoever raised it, leaves as the contract's JSON error shape."""

from __future__ import annotations

import logging
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..web.errors import (
    AgentError,
    BadRequest,
    InternalError,
    ValidationFailed,
    error_payload,
    status_error_payload,
)

logger = logging.getLogger(__name__)


def _response(exc: AgentError) -> JSONResponse:
    return JSONResponse(
        error_payload(exc.code, exc.message, exc.details),
        status_code=exc.status,
        headers=exc.headers,
    )


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def handle_agent_error(request: Request, exc: Exception) -> JSONResponse:
    return _response(cast(AgentError, exc))


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(StarletteHTTPException, exc)
    return JSONResponse(
        status_error_payload(exc.status_code, exc.detail),
        status_code=exc.status_code,
        headers=dict(exc.headers or {}),
    )


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = list(cast(RequestValidationError, exc).errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        return _response(BadRequest("malformed JSON body"))
    details = [
        {"field": _field(error.get("loc", ())), "reason": str(error.get("msg", "invalid"))}
        for error in errors
    ]
    return _response(ValidationFailed(details=details))


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", extra={"error_type": type(exc).__name__})
    return _response(InternalError())


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AgentError, handle_agent_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(Exception, handle_unexpected)
