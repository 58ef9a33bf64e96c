"""The access line: one JSON line per request, labelled with the route template.

What the handling adds with ``context.add_access_fields()`` (an agent turn's
session, tokens and tool calls) is on the same line. The request middleware
(``request_context.py``) calls ``log_request`` once a request has ended.
"""

from __future__ import annotations

import logging
from typing import Any

from .. import observability_contract
from ..logs import log_fields
from . import Scope

logger = logging.getLogger("access")


def log_request(scope: Scope, status: int, duration_ms: float, fields: dict[str, Any]) -> None:
    log_fields(
        logger,
        logging.ERROR if status >= 500 else logging.INFO,
        "request",
        {
            "method": scope.get("method"),
            "route": observability_contract.route_template(scope),
            "status": status,
            "duration_ms": round(duration_ms, 3),
            **fields,
        },
    )
