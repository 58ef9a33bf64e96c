"""The request class: a body that cannot be JSON is always a client error.

Litestar turns msgspec's ``DecodeError`` into a 400, but invalid UTF-8
escapes as ``UnicodeDecodeError`` (a 500). It is malformed JSON: it becomes
``SerializationException``, which Litestar answers with a 400 that
``errors.py`` renders as ``bad_request``. (Nesting is bounded before the body
gets here: ``middleware/json_depth.py``.)
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException


class ApiRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            return await super().json()
        except UnicodeDecodeError as exc:
            raise SerializationException(type(exc).__name__) from None
