"""The framework's test client, for conftest's ``client`` and ``client_factory``."""

from typing import Any

from litestar.testing import TestClient as LitestarTestClient

# create_app() returns the wrapped ASGI callable, not a Litestar instance.
TestClient = LitestarTestClient[Any]

__all__ = ["TestClient"]
