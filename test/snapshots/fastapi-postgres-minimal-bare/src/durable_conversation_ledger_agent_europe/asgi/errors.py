"""The contract's JSON error body, usable without a framework."""

from __future__ import annotations

import json
from typing import Any

from ..agent.errors import AgentError
from ..context import current_trace_id
from . import Send


def error_payload(
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    trace_id: str | None = None,
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "trace_id": trace_id or current_trace_id() or "",
            "details": details or [],
        }
    }


def error_body(exc: AgentError) -> bytes:
    return json.dumps(error_payload(exc.code, exc.message, exc.details)).encode()


async def send_error(send: Send, exc: AgentError) -> None:
    """Send a complete JSON error response for ``exc``."""
    body = error_body(exc)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    headers.extend(
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in exc.headers.items()
    )
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
