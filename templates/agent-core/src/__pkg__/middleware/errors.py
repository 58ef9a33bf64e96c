"""Send the contract's JSON error response straight from ASGI middleware."""

from __future__ import annotations

from collections.abc import Mapping

from ..web.errors import AgentError, error_body
from . import Send


async def send_error(
    send: Send, exc: AgentError, extra_headers: Mapping[str, str] | None = None
) -> None:
    """Send a complete JSON error response for ``exc`` (and ``extra_headers``)."""
    body = error_body(exc)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    headers.extend(
        (k.lower().encode("latin-1"), v.encode("latin-1"))
        for k, v in {**exc.headers, **(extra_headers or {})}.items()
    )
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
