"""One JSON access line per request, labelled with the route template.

What the handling adds with ``context.add_access_fields()`` (an agent turn's
session, tokens and tool calls) is on the same line.

Also the last line of defence: an exception escaping the app becomes the
contract's 500 body (when no response has started) and is logged with the
trace id, never sent to the client.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from .. import observability_contract
from ..context import access_fields_var
from ..web.errors import InternalError
from . import ASGIApp, Message, Receive, Scope, Send
from .errors import send_error

logger = logging.getLogger("access")
error_logger = logging.getLogger(__name__)


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope.setdefault("state", {})
        fields: dict[str, Any] = {}
        fields_token = access_fields_var.set(fields)
        status = 500
        response_started = False

        async def send_and_record(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        except Exception:
            if response_started:
                # The framework already answered (and logged) it.
                error_logger.debug("exception after the response started", exc_info=True)
            else:
                error_logger.exception("unhandled error")
                status = 500
                await send_error(send, InternalError())
        finally:
            access_fields_var.reset(fields_token)
            duration_ms = round((time.perf_counter() - started) * 1000, 3)
            logger.log(
                logging.ERROR if status >= 500 else logging.INFO,
                "request",
                extra={
                    "method": scope.get("method"),
                    "route": observability_contract.route_template(scope),
                    "status": status,
                    "duration_ms": duration_ms,
                    **fields,
                },
            )
