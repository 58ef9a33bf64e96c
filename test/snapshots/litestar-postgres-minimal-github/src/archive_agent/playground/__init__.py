"""The playground: one page at ``/playground`` to talk to this service from a browser.

Plain ASGI, no web framework: ``web.app.wrap_app()`` (the middleware stack of
both framework layers) mounts it through ``with_playground()`` when
``settings.playground_on`` (on in development, off in production unless
``PLAYGROUND_ENABLED=true``). When off it is not mounted at all, so
``/playground`` is a 404 like any unknown route and nothing of it appears in the
OpenAPI document. The page's files (``static/``) ship in the package, read once
at start: no build step, no CDN.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from .. import __version__, observability
from ..config import Settings
from ..middleware import ASGIApp, Receive, Scope, Send
from ..middleware.errors import send_error
from ..web.errors import MethodNotAllowed

PAGE_PATH = "/playground"
ASSET_ROUTE = "/playground/{asset}"

# Only the page's own files may load; no inline script or style, no framing, no
# plugins, no <base>; forms submit nowhere (the page talks to the API with fetch).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cache-control", b"no-cache"),
)

# URL path -> (file under static/, media type). Nothing else under /playground is served.
FILES: dict[str, tuple[str, str]] = {
    PAGE_PATH: ("index.html", "text/html; charset=utf-8"),
    "/playground/playground.css": ("playground.css", "text/css; charset=utf-8"),
    "/playground/playground.js": ("playground.js", "text/javascript; charset=utf-8"),
    "/playground/favicon.svg": ("favicon.svg", "image/svg+xml"),
}
CONFIG_PATH = "/playground/config.json"

# The compose stack's dashboards (`docker compose --profile observability up`).
DASHBOARDS: tuple[tuple[str, str], ...] = ()  # observability=minimal: no dashboards


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    route: str


def page_config(settings: Settings) -> dict[str, object]:
    """What the page needs to know about this service (no secret in it)."""
    return {
        "service": "archive-agent",
        "version": __version__,
        "auth": settings.auth_enabled,
        "docs": settings.docs_on,
        "metrics": observability.metrics_app() is not None,
        "observability": "minimal",
        "dashboards": [{"name": label, "url": url} for label, url in DASHBOARDS],
    }


def load_assets(settings: Settings) -> dict[str, Asset]:
    static = resources.files(__package__).joinpath("static")
    assets = {
        path: Asset(
            static.joinpath(file).read_bytes(),
            media_type,
            PAGE_PATH if path == PAGE_PATH else ASSET_ROUTE,
        )
        for path, (file, media_type) in FILES.items()
    }
    config = json.dumps(page_config(settings), separators=(",", ":")).encode()
    assets[CONFIG_PATH] = Asset(config, "application/json", ASSET_ROUTE)
    return assets


async def send_file(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]], *, head: bool = False
) -> None:
    start = [*headers, (b"content-length", str(len(body)).encode()), *SECURITY_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": b"" if head else body, "more_body": False})


class PlaygroundMiddleware:
    """Answers GET/HEAD for the playground's few paths; everything else goes to ``app``."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.assets = load_assets(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == PAGE_PATH + "/":
            # The page's relative links resolve against /playground, not /playground/.
            scope.setdefault("state", {})["route_template"] = PAGE_PATH
            await send_file(send, 308, b"", [(b"location", b"../playground")])
            return
        asset = self.assets.get(path)
        if asset is None:
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["route_template"] = asset.route
        if scope.get("method") not in ("GET", "HEAD"):
            await send_error(send, MethodNotAllowed(headers={"Allow": "GET, HEAD"}))
            return
        headers = [(b"content-type", asset.media_type.encode())]
        await send_file(send, 200, asset.body, headers, head=scope.get("method") == "HEAD")


def with_playground(app: ASGIApp, settings: Settings) -> ASGIApp:
    """``app`` with the playground in front of it, or ``app`` itself when it is off."""
    return PlaygroundMiddleware(app, settings) if settings.playground_on else app
