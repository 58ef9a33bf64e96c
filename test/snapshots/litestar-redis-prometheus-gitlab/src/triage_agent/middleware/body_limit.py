"""Request body bounds: 413 before the body is read whole, 415 for non-JSON bodies.

A declared ``Content-Length`` over MAX_BODY_BYTES is refused at once; a body
without one (chunked) is counted while the application reads it and refused
as soon as it passes the limit.
"""

from __future__ import annotations

from ..web.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from . import ASGIApp, Message, Receive, Scope, Send, header
from .errors import send_error


class _BodyTooLarge(PayloadTooLarge):
    """Raised into the application when a chunked body passes the limit.

    A PayloadTooLarge, so a framework's error handler answers 413 with it
    rather than logging an unhandled error; guarded_send makes sure the
    client gets exactly one 413 whatever the application does with it.
    """


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

        received = 0
        exceeded = False
        replied = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    exceeded = True
                    raise _BodyTooLarge(f"body is over {self.max_body_bytes} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal replied
            if exceeded:
                # Whatever the app made of the aborted read, the answer is 413.
                if not replied:
                    replied = True
                    await send_error(
                        send, PayloadTooLarge(f"body is over {self.max_body_bytes} bytes")
                    )
                return
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not replied:
            replied = True
            await send_error(send, PayloadTooLarge(f"body is over {self.max_body_bytes} bytes"))
