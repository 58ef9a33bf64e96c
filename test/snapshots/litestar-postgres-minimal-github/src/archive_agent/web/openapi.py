"""What both frameworks' OpenAPI documents must say alike, applied to each.

Each framework generates its own document; ``finish_openapi()`` then makes
the parts that must match what the service enforces exact: the chat request
body is the schema pydantic validates with (its ``session_id``/``user_id``
patterns included, which one framework's generator drops), and the API-key
schemes (``Authorization: Bearer`` or ``X-API-Key``) are declared, and
required on the agent routes when API keys are configured. The paths the core
serves itself (``/mcp`` when MCP_SERVER_ENABLED) are added to both.
"""

from __future__ import annotations

import copy
from typing import Any

from ..agent.schemas import ChatRequest
from ..config import Settings
from ..middleware.api_key import AGENT_PATHS
from .mcp_endpoint import openapi_paths

SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "one of the API keys in API_KEYS, as `Authorization: Bearer <key>`",
    },
    "apiKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "one of the API keys in API_KEYS",
    },
}
# Either scheme is enough (two requirement objects: OR).
SECURITY: list[dict[str, list[str]]] = [{name: []} for name in SECURITY_SCHEMES]


def finish_openapi(document: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """A copy of ``document`` with the exact request schema and the security schemes."""
    finished = copy.deepcopy(document)
    components = finished.setdefault("components", {})
    components.setdefault("schemas", {})["ChatRequest"] = ChatRequest.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    components["securitySchemes"] = copy.deepcopy(SECURITY_SCHEMES)
    # The paths the core serves outside the framework's routing (``/mcp``).
    finished.setdefault("paths", {}).update(copy.deepcopy(openapi_paths(settings)))
    for path in AGENT_PATHS:
        operation = finished.get("paths", {}).get(path, {}).get("post")
        if operation is None:
            continue
        if settings.auth_enabled:
            operation["security"] = copy.deepcopy(SECURITY)
        else:
            operation.pop("security", None)
    return finished
