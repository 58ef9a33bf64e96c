"""Connection-level bounds for uvicorn's httptools protocol.

uvicorn with httptools has no limit on header bytes and no timeout for a
request head (h11's size limit does not bound the time; the other servers
cannot answer malformed HTTP with the contract's JSON or cap connections), so
this subclass adds them; everything else is uvicorn's own:

- ``MAX_HEADER_BYTES``: a request head (request line and headers) over it gets
  431 and the connection is closed. An unfinished head is counted as its bytes
  arrive, so a client sending an endless header holds at most the limit plus
  one socket read; a whole head is measured as the parser hands it over.
- ``HEADER_READ_TIMEOUT``: a connection that has not sent a whole request head
  this long after it opened (or after the first byte of its next request) is
  closed: 408 when it had started a head, silently when it sent nothing.
- ``KEEPALIVE_TIMEOUT``: idle time between requests (uvicorn's own timer).
- ``MAX_CONNECTIONS``: connections per worker; one past it is closed at once.
- Malformed HTTP (the parser refuses it) gets the contract's JSON 400 with an
  ``X-Request-ID`` instead of uvicorn's plain-text one.

The body-read timeout (``BODY_READ_TIMEOUT``, 408) is in the ASGI middleware
(``middleware/body_limit.py``) so the framework's error path answers it and
the request counts toward the drain until then.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, cast

import uvicorn
from uvicorn._types import ASGISendEvent
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from .web.errors import error_payload

logger = logging.getLogger(__name__)

# A connection closed after an early answer drains its input this long, or
# this much, before it is closed: enough for a client to finish sending a body
# of a few MAX_BODY_BYTES and read the answer (a close with unread input would
# reset the connection and could destroy the answer); beyond it, it is reset.
# After a refused head the client has no body to finish: a little is drained.
LINGER_SECONDS = 2.0
LINGER_MAX_BYTES = 8 * 1_048_576
LINGER_MAX_BYTES_AFTER_HEAD = 65_536


@dataclass(frozen=True)
class HttpBounds:
    max_header_bytes: int = 16_384
    header_read_timeout: float = 10.0
    max_connections: int = 1000


_refused = {"count": 0, "logged_at": float("-inf")}
REFUSED_LOG_INTERVAL = 10.0  # seconds: one log line per interval under a flood, with a count


def _log_refused_connection(now: float, max_connections: int) -> None:
    _refused["count"] += 1
    if now - _refused["logged_at"] >= REFUSED_LOG_INTERVAL:
        logger.warning(
            "connections refused: MAX_CONNECTIONS reached",
            extra={"max_connections": max_connections, "refused": int(_refused["count"])},
        )
        _refused["count"] = 0
        _refused["logged_at"] = now


class _HeadTooLarge(Exception):
    """Raised from the parser's callback for a whole head over MAX_HEADER_BYTES."""


class BoundedConfig(uvicorn.Config):
    """uvicorn's Config carrying the bounds to every protocol instance it makes."""

    def __init__(self, app: Any, *, bounds: HttpBounds, **kwargs: Any) -> None:
        super().__init__(app, http=BoundedHttpToolsProtocol, **kwargs)
        self.bounds = bounds


def error_response(status: int, reason: str, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 response with the contract's JSON error body; closes the connection."""
    body = json.dumps(error_payload(code, message, trace_id=secrets.token_hex(16))).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        f"x-request-id: {uuid.uuid4().hex}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.bounds = config.bounds if isinstance(config, BoundedConfig) else HttpBounds()
        self._reading_head = True  # no request head complete since the last message ended
        self._head_bytes = 0
        self._message_ended = False  # a message ended during the current data_received
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_begun = False  # the parser has seen the start of the current head
        self._parsed_head_bytes = 0  # the current head's bytes, as the parser hands them over
        self._head_too_large = False
        self._lingering = False
        self._linger_max_bytes = LINGER_MAX_BYTES
        self._discarded = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._raw_transport = transport
        self._transport_writes = LingeringTransport(transport, self)
        super().connection_made(cast(asyncio.Transport, self._transport_writes))
        if len(self.connections) > self.bounds.max_connections:
            _log_refused_connection(self.loop.time(), self.bounds.max_connections)
            transport.close()
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # A chunk that starts inside a head counts toward its bytes. One in which
        # a pipelined message ended holds the next head's start at an unknown
        # offset: not counted, so the bound is the limit plus one read.
        if self._lingering:
            # The connection is being closed: input is discarded, up to a bound.
            self._discarded += len(data)
            if self._discarded > self._linger_max_bytes:
                self._raw_transport.close()
            return
        starts_in_head = self._reading_head
        self._message_ended = False
        if starts_in_head and self._head_timer is None:
            self._arm_head_timer()
        super().data_received(data)
        if self._closing() or not (self._reading_head and starts_in_head):
            return
        if self._message_ended:
            return
        self._head_bytes += len(data)
        if self._head_bytes > self.bounds.max_header_bytes:
            self._refuse_head_too_large()

    def on_message_begin(self) -> None:
        self._head_begun = True
        self._parsed_head_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._parsed_head_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._parsed_head_bytes += len(name) + len(value) + 4  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_begun = False
        self._head_bytes = 0
        self._cancel_head_timer()
        if self._parsed_head_bytes > self.bounds.max_header_bytes:
            # A head that arrived whole in one read: refused here, before any
            # request starts. The parser turns the exception into its error,
            # which reaches send_400_response.
            self._head_too_large = True
            raise _HeadTooLarge
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.scope is self.scope:
            _close_when_answered_early(self.cycle)

    def on_message_complete(self) -> None:
        self._reading_head = True
        self._message_ended = True
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        if self._head_too_large:
            self._refuse_head_too_large()
            return
        self._cancel_head_timer()
        self.transport.write(
            error_response(400, "Bad Request", "bad_request", "malformed HTTP request")
        )
        self._close_lingering(LINGER_MAX_BYTES_AFTER_HEAD)

    def _refuse_head_too_large(self) -> None:
        self._refuse(
            431,
            "Request Header Fields Too Large",
            "request_header_too_large",
            f"request head is over MAX_HEADER_BYTES ({self.bounds.max_header_bytes} bytes)",
        )

    def _refuse(self, status: int, reason: str, code: str, message: str) -> None:
        """Answer ``status`` and close, unless a response is being written (pipelining)."""
        self._cancel_head_timer()
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(error_response(status, reason, code, message))
        self._close_lingering(LINGER_MAX_BYTES_AFTER_HEAD)

    def _closing(self) -> bool:
        return self._lingering or self._raw_transport.is_closing()

    def _body_unfinished(self) -> bool:
        return self.cycle is not None and self.cycle.more_body

    def _close_lingering(self, max_bytes: int = LINGER_MAX_BYTES) -> None:
        """Close after the answer reached the client: a close with unread input
        would reset the connection and could destroy the answer in flight, so
        send FIN, discard what still arrives, and close after a short while."""
        if self._lingering:
            return
        self._lingering = True
        self._linger_max_bytes = max_bytes
        raw = self._raw_transport
        self._transport_writes.flush()
        if raw.can_write_eof():
            raw.write_eof()
        self.loop.call_later(LINGER_SECONDS, raw.close)

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(
            self.bounds.header_read_timeout, self._head_timed_out
        )

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._closing() or not self._reading_head:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A response is still being written; the next head waits for it.
            self._arm_head_timer()
            return
        if not self._head_begun:
            self.transport.close()  # silent: nothing to answer
            return
        self._refuse(
            408,
            "Request Timeout",
            "request_timeout",
            f"request head not received within HEADER_READ_TIMEOUT "
            f"({self.bounds.header_read_timeout:g} s)",
        )


def _close_when_answered_early(cycle: RequestResponseCycle) -> None:
    """An answer that starts before its request's body has ended (a 401 or 404
    that never reads it, a 413) says ``Connection: close``: the rest of the
    body would otherwise hold the connection for as long as the client sends,
    and a client must not reuse a connection the server is closing."""
    send = cycle.send

    async def send_closing_early(message: ASGISendEvent) -> None:
        if message["type"] == "http.response.start" and cycle.more_body:
            headers = [*message.get("headers", []), (b"connection", b"close")]
            message = {**message, "headers": headers}
        await send(message)

    cycle.send = send_closing_early  # type: ignore[method-assign]


class LingeringTransport:
    """The connection's transport as uvicorn sees it.

    - uvicorn closes at once after an answer with ``Connection: close``; with
      the request body still arriving (a 408 or 413 before its end) this closes
      lingering instead.
    - uvicorn writes a response's head and its body (or each streamed chunk) in
      separate ``write`` calls, each a ``send`` syscall and, with TCP_NODELAY, a
      packet of its own. The writes of one event-loop iteration go out as one:
      the first is held until the end of the iteration (``call_soon``), the
      ones after it join it; a close or EOF sends what is held first.
    """

    def __init__(self, transport: asyncio.Transport, protocol: BoundedHttpToolsProtocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._held: list[bytes] | None = None

    def write(self, data: bytes) -> None:
        if self._held is None:
            self._held = [data]
            self._protocol.loop.call_soon(self.flush)
        else:
            self._held.append(data)

    def flush(self) -> None:
        held, self._held = self._held, None
        if held and not self._transport.is_closing():
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self.flush()
        if self._protocol._body_unfinished():
            self._protocol._close_lingering()
        else:
            self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def is_closing(self) -> bool:
        return self._protocol._closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
