"""API-key authentication and the per-caller rate limit, framework-independent."""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable

from ..sessions.base import SessionStore
from .errors import RateLimited, Unauthorized


def extract_api_key(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key from ``Authorization: Bearer <key>`` or ``X-API-Key``."""
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    if x_api_key and x_api_key.strip():
        return x_api_key.strip()
    return None


def key_matches(presented: str, configured: tuple[str, ...]) -> bool:
    """Constant-time comparison against every configured key (no early exit)."""
    presented_bytes = presented.encode()
    matched = False
    for key in configured:
        matched |= hmac.compare_digest(presented_bytes, key.encode())
    return matched


def authenticate(
    authorization: str | None, x_api_key: str | None, configured: tuple[str, ...]
) -> str:
    """The caller's key, or raise ``Unauthorized``."""
    presented = extract_api_key(authorization, x_api_key)
    if presented is None or not key_matches(presented, configured):
        raise Unauthorized()
    return presented


def fingerprint(value: str) -> str:
    """A short, non-reversible id for a key or an address (for counters and logs)."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


class RateLimiter:
    """Fixed one-minute windows per caller, counted in the session store."""

    def __init__(
        self, store: SessionStore, per_minute: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.per_minute = per_minute
        self._clock = clock

    async def hit(self, caller: str) -> None:
        if self.per_minute <= 0:
            return
        now = self._clock()
        window = int(now // 60)
        count = await self.store.incr(f"ratelimit:{fingerprint(caller)}:{window}", 1, 120)
        if count > self.per_minute:
            raise RateLimited(retry_after=math.ceil((window + 1) * 60 - now))
