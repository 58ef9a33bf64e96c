"""The app factory: ``create_app()`` (uvicorn calls it with ``--factory``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Router, asgi
from litestar.config.cors import CORSConfig
from litestar.enums import MediaType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.types import ControllerRouterHandler

from .. import __version__, observability
from ..agent.llm import ChatModel
from ..agent.tools import ToolRegistry
from ..config import Settings, load_settings
from ..middleware import ASGIApp, Receive, Scope, Send
from ..middleware.errors import send_error
from ..sessions import SessionStore
from ..web.app import (
    CORS_ALLOW_HEADERS,
    CORS_ALLOW_METHODS,
    CORS_EXPOSE_HEADERS,
    CORS_MAX_AGE_SECONDS,
    wrap_app,
)
from ..web.errors import MethodNotAllowed
from ..web.openapi import finish_openapi
from ..web.services import running_services
from .errors import EXCEPTION_HANDLERS
from .request import ApiRequest
from .routes import ROUTES
from .run_routes import RUN_ROUTES

DESCRIPTION = "An LLM agent service"
OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"


class RouteLabeler:
    """Puts the matched route template in ``scope["state"]["route_template"]``.

    Litestar records the template of the route it matched in
    ``scope["path_template"]``; metrics and access logs label by it, never by
    the raw path. Anything that matched no route stays ``unmatched``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        try:
            await self.app(scope, receive, send)
        finally:
            template = scope.get("path_template")
            if isinstance(template, str) and template and "route_template" not in state:
                state["route_template"] = template


class _OnlyTheseDocumentRoutes(JsonRenderPlugin):
    """The OpenAPI document at exactly ``/openapi.json`` (served as application/json).

    Litestar's OpenAPI router is mounted at ``/`` so the URLs are exactly the
    contract's; this plugin drops the catch-all and root routes Litestar adds
    to that router (they would answer unknown paths with HTML).
    """

    def __init__(self, keep: tuple[str, ...], settings: Settings) -> None:
        super().__init__(path=OPENAPI_PATH, media_type=MediaType.JSON)
        self.keep = keep
        self.settings = settings

    def receive_router(self, router: Router) -> None:
        router.routes[:] = [route for route in router.routes if route.path in self.keep]

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        # Litestar's document, made exact by the core's finish_openapi().
        return self.render_json(request, finish_openapi(openapi_schema, self.settings))


def openapi_config(settings: Settings) -> OpenAPIConfig:
    keep: tuple[str, ...] = (OPENAPI_PATH, DOCS_PATH) if settings.docs_on else (OPENAPI_PATH,)
    plugins: list[OpenAPIRenderPlugin] = [_OnlyTheseDocumentRoutes(keep, settings)]
    if settings.docs_on:
        plugins.append(SwaggerRenderPlugin(path=DOCS_PATH))
    return OpenAPIConfig(
        title="lite-agent-with-the-longest-allowed-name",
        version=__version__,
        description=DESCRIPTION,
        openapi_router=Router(path="/", route_handlers=[], include_in_schema=False),
        render_plugins=plugins,
        create_examples=False,
    )


def cors_config(settings: Settings) -> CORSConfig | None:
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=list(CORS_ALLOW_METHODS),  # type: ignore[arg-type]
        allow_headers=list(CORS_ALLOW_HEADERS),
        expose_headers=list(CORS_EXPOSE_HEADERS),
        allow_credentials=False,
        max_age=CORS_MAX_AGE_SECONDS,
    )


def metrics_route(metrics: ASGIApp) -> ControllerRouterHandler:
    """``GET /metrics``: the observability stack's scrape endpoint, as a Litestar ASGI route."""

    @asgi("/metrics", include_in_schema=False, copy_scope=False)
    async def metrics_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") not in ("GET", "HEAD"):
            await send_error(send, MethodNotAllowed(headers={"Allow": "GET, HEAD"}))
            return
        await metrics(scope, receive, send)

    return metrics_endpoint


def create_app(
    settings: Settings | None = None,
    *,
    model: ChatModel | None = None,
    store: SessionStore | None = None,
    tools: ToolRegistry | None = None,
) -> ASGIApp:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with running_services(settings, model=model, store=store, tools=tools) as services:
            app.state.services = services
            yield

    handlers: list[ControllerRouterHandler] = [*ROUTES, *RUN_ROUTES]
    metrics = observability.metrics_app()
    if metrics is not None:
        handlers.append(metrics_route(metrics))

    app = Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi_config(settings),
        cors_config=cors_config(settings),
        request_class=ApiRequest,
        request_max_body_size=settings.max_body_bytes,
        logging_config=None,
        debug=False,
    )
    return wrap_app(
        RouteLabeler(app),  # type: ignore[arg-type]
        settings,
        services=lambda: getattr(app.state, "services", None),
    )
