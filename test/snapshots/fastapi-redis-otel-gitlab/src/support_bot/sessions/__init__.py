"""Session stores: ``create_store()`` picks the one SESSION_STORE names."""

from __future__ import annotations

from ..config import Settings
from .base import Message, SessionStore
from .memory import MemorySessionStore
from .redis import RedisSessionStore

__all__ = ["MemorySessionStore", "Message", "SessionStore", "create_store"]


def create_store(settings: Settings) -> SessionStore:
    if settings.session_store == "redis":
        return RedisSessionStore(
            settings.redis_url,
            settings.session_max_messages,
            prefix=settings.redis_key_prefix,
            timeout=settings.store_timeout,
        )
    return MemorySessionStore(
        settings.session_max_messages, max_bytes=settings.memory_store_max_bytes
    )
