"""The request class: a body that cannot be JSON is always a client error.

Litestar turns msgspec's ``DecodeError`` into a 400, but invalid UTF-8 and
nesting too deep to decode escape as ``UnicodeDecodeError``/``RecursionError``
(a 500). Both are malformed JSON: they become ``SerializationException``,
which Litestar answers with a 400 that ``errors.py`` renders as ``bad_request``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException


class ApiRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            return await super().json()
        except (UnicodeDecodeError, RecursionError) as exc:
            raise SerializationException(type(exc).__name__) from None
