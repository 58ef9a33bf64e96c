"""The framework's test client, for conftest's ``client`` and ``client_factory``."""

from fastapi.testclient import TestClient

__all__ = ["TestClient"]
