"""Request body bounds: 413 before the body is read whole, 415 for non-JSON
bodies, 400 for JSON nested deeper than MAX_JSON_DEPTH, 408 for a body that
does not arrive in time.

A declared ``Content-Length`` over MAX_BODY_BYTES is refused at once; a body
without one (chunked) is counted while the application reads it and refused
as soon as it passes the limit. The nesting is checked on the chunks as the
application reads them, before its framework parses the body. The whole body
must arrive within BODY_READ_TIMEOUT of the request head, so a body that never
ends holds a request slot (and the drain after SIGTERM) for that long at most.
Refusals made while the body is still arriving close the connection
(``Connection: close``), whose unread body makes it unusable.
"""

from __future__ import annotations

import asyncio

from ..web.errors import (
    AgentError,
    BadRequest,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
)
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


class _BodyTimedOut(RequestTimeout):
    """Raised into the application when the body passes BODY_READ_TIMEOUT (as above, for 408)."""


def _closing(exc: AgentError) -> AgentError:
    """``exc`` answered with ``Connection: close``: the rest of the body is never read."""
    exc.headers["Connection"] = "close"
    return exc


def is_json_media_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, max_body_bytes: int, body_read_timeout: float | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_read_timeout = body_read_timeout

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
        guard = _BodyGuard(self.max_body_bytes, self.body_read_timeout, receive, send)
        try:
            await self.app(scope, guard.receive, guard.send)
        except (_BodyTooLarge, _BodyTimedOut, _JsonTooDeep):
            pass
        except Exception:
            if guard.refusal is None:
                raise
        await guard.reply_refusal()


class _BodyGuard:
    """One request's body read: counted, under a deadline, and the refusal answered once."""

    def __init__(
        self, max_bytes: int, read_timeout: float | None, receive: Receive, send: Send
    ) -> None:
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout
        self._receive = receive
        self._send = send
        self._loop = asyncio.get_running_loop()
        self._deadline = None if read_timeout is None else self._loop.time() + read_timeout
        self.received = 0
        self.depth = JsonDepthScanner()
        self.body_complete = False
        self.refusal: AgentError | None = None
        self.replied = False

    async def receive(self) -> Message:
        if self.body_complete or self._deadline is None:
            # After the body, receive() only waits for the disconnect: no deadline.
            message = await self._receive()
        else:
            try:
                # timeout_at, not wait_for: no task per chunk (wait_for wraps the
                # receive in one on Python 3.11, an extra event-loop round each).
                async with asyncio.timeout_at(self._deadline):
                    message = await self._receive()
            except TimeoutError:
                self.refusal = _closing(
                    RequestTimeout(
                        f"body not received within BODY_READ_TIMEOUT ({self.read_timeout:g} s)"
                    )
                )
                raise _BodyTimedOut(self.refusal.message) from None
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            self.received += len(chunk)
            if not message.get("more_body", False):
                self.body_complete = True
            if self.received > self.max_bytes:
                self.refusal = _closing(PayloadTooLarge(f"body is over {self.max_bytes} bytes"))
                raise _BodyTooLarge(self.refusal.message)
            if not self.depth.feed(chunk):
                refusal = _JsonTooDeep()
                self.refusal = refusal if self.body_complete else _closing(refusal)
                raise refusal
        return message

    async def send(self, message: Message) -> None:
        if self.refusal is None:
            await self._send(message)
            return
        # Whatever the app made of the aborted read, the answer is the refusal.
        await self.reply_refusal()

    async def reply_refusal(self) -> None:
        if self.refusal is not None and not self.replied:
            self.replied = True
            await send_error(self._send, self.refusal)
