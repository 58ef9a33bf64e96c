"""Request body bounds: 413 before the body is read whole, 415 for non-JSON
bodies, 400 for JSON nested deeper than MAX_JSON_DEPTH.

A declared ``Content-Length`` over MAX_BODY_BYTES is refused at once; a body
without one (chunked) is counted while the application reads it and refused
as soon as it passes the limit. The nesting is checked on the chunks as the
application reads them, before its framework parses the body.
"""

from __future__ import annotations

from ..web.errors import AgentError, BadRequest, PayloadTooLarge, UnsupportedMediaType
from . import ASGIApp, Message, Receive, Scope, Send, header
from .errors import send_error
from .json_depth import MAX_JSON_DEPTH, JsonDepthScanner


class _BodyTooLarge(PayloadTooLarge):
    """Raised into the application when a chunked body passes the limit.

    A PayloadTooLarge, so a framework's error handler answers 413 with it
    rather than logging an unhandled error; guarded_send makes sure the
    client gets exactly one 413 whatever the application does with it.
    """


class _JsonTooDeep(BadRequest):
    """Raised into the application when the body nests deeper than MAX_JSON_DEPTH."""

    default_message = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"


def is_json_media_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length_header = header(scope, b"content-length")
        chunked = header(scope, b"transfer-encoding") is not None
        declared = 0
        if length_header is not None:
            try:
                declared = int(length_header)
            except ValueError:
                await send_error(send, BadRequest("invalid Content-Length"))
                return
            if declared > self.max_body_bytes:
                await send_error(send, PayloadTooLarge(f"body is over {self.max_body_bytes} bytes"))
                return
        has_body = declared > 0 or chunked
        if has_body and not is_json_media_type(header(scope, b"content-type")):
            await send_error(send, UnsupportedMediaType())
            return
        if not has_body:
            await self.app(scope, receive, send)
            return
        await self._bounded(scope, receive, send)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app on a body whose size and nesting are checked as it reads it."""
        received = 0
        depth = JsonDepthScanner()
        refused: AgentError | None = None  # the answer, once a bound is passed
        replied = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_body_bytes:
                    refused = _BodyTooLarge(f"body is over {self.max_body_bytes} bytes")
                    raise refused
                if not depth.feed(chunk):
                    refused = _JsonTooDeep()
                    raise refused
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal replied
            if refused is not None:
                # Whatever the app made of the aborted read, the answer is the refusal.
                if not replied:
                    replied = True
                    await send_error(send, refused)
                return
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except (_BodyTooLarge, _JsonTooDeep):
            pass
        except Exception:
            if refused is None:
                raise
        if refused is not None and not replied:
            replied = True
            await send_error(send, refused)
