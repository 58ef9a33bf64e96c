"""Outermost ASGI wrapper: one SERVER span per HTTP request plus the request metrics.

Framework independent (pure ASGI). The incoming ``traceparent`` is continued
(propagators from OTEL_PROPAGATORS, W3C trace context by default). Route and
method labels follow ``observability_contract`` (route templates, never raw
paths; a bounded method label).
"""

from __future__ import annotations

import time

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter, TextMapPropagator
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.http import get_excluded_urls

from ..middleware import ASGIApp, Message, Receive, Scope, Send
from ..observability_contract import UNMATCHED, bounded_method, route_template
from . import _state
from ._recorders import record_failure


class _ScopeHeaders(Getter[Scope]):
    def get(self, carrier: Scope, key: str) -> list[str] | None:
        wanted = key.lower().encode("latin-1")
        values = [
            v.decode("latin-1") for k, v in carrier.get("headers") or () if k.lower() == wanted
        ]
        return values or None

    def keys(self, carrier: Scope) -> list[str]:
        return [k.decode("latin-1") for k, _ in carrier.get("headers") or ()]


_getter = _ScopeHeaders()


class OpenTelemetryMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.excluded = get_excluded_urls("ASGI")
        self._propagator: TextMapPropagator | None = None
        self._fields: frozenset[bytes] = frozenset()

    def _extract(self, scope: Scope) -> otel_context.Context | None:
        """The incoming trace context; None (a new trace) without any propagation header.

        Most requests carry no ``traceparent``/``baggage``: checking the header
        names first skips the propagators' parsing for them.
        """
        propagator = propagate.get_global_textmap()
        if propagator is not self._propagator:
            self._propagator = propagator
            self._fields = frozenset(f.lower().encode("latin-1") for f in propagator.fields)
        fields = self._fields
        if not any(k.lower() in fields for k, _ in scope.get("headers") or ()):
            return None
        return propagate.extract(scope, getter=_getter)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        # A dict shared with the inner layers, so the route template they store is seen here.
        if not isinstance(scope.get("state"), dict):
            scope["state"] = {}
        method = bounded_method(str(scope.get("method", "")))
        path = str(scope.get("path", ""))
        inst = _state.instruments()
        traced = not self.excluded.url_disabled(path)
        span: trace.Span = trace.INVALID_SPAN
        token = None
        if traced:
            parent = self._extract(scope)
            span = _state.tracer().start_span(
                method,
                context=parent,
                kind=SpanKind.SERVER,
                attributes={
                    "http.request.method": method,
                    "url.scheme": str(scope.get("scheme", "http")),
                    "url.path": path,
                    "network.protocol.version": str(scope.get("http_version", "1.1")),
                },
            )
            token = otel_context.attach(trace.set_span_in_context(span, parent))
        status_code = 500
        started = time.perf_counter()
        inst.active_requests.add(1)

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message.get("type") == "http.response.start":
                status_code = int(message.get("status", 500))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except BaseException as exc:
            record_failure(span, exc)
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            inst.active_requests.add(-1)
            inst.requests.add(1, route, method, str(status_code))
            inst.record_request_duration(elapsed, route, method)
            if span.is_recording():
                span.update_name(f"{method} {route}" if route != UNMATCHED else method)
                span.set_attributes({"http.route": route, "http.response.status_code": status_code})
                if status_code >= 500:
                    span.set_status(Status(StatusCode.ERROR))
            if traced:
                span.end()
            if token is not None:
                otel_context.detach(token)


def instrument_app(app: ASGIApp, settings: object = None) -> ASGIApp:
    """Wrap the whole application (outermost): server spans and request metrics."""
    return OpenTelemetryMiddleware(app)
