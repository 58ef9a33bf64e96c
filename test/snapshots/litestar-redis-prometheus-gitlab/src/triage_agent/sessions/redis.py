"""Redis session store (redis-py asyncio).

History: one list per session (``<prefix>session:<id>``) of JSON messages,
trimmed to the newest ``max_messages`` and expiring ``SESSION_TTL_SECONDS``
after the last write. Counters: plain keys with INCRBY and a TTL; values (``<prefix>value:<key>``): SET with EX.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .base import Message, SessionStore

logger = logging.getLogger(__name__)

SESSION_TTL_SECONDS = 30 * 24 * 3600
CONNECT_ATTEMPTS = 5
# Connections per worker process. Past this, a request waits (up to the
# store timeout, STORE_TIMEOUT) for a free connection instead of failing at
# once, so a burst of concurrent turns queues rather than turning into errors.
MAX_CONNECTIONS = 64
DEFAULT_TIMEOUT_SECONDS = 2.0


class RedisSessionStore(SessionStore):
    name = "redis"
    # A pool with no free connection in time raises ConnectionError too.
    outage_errors = (RedisConnectionError, RedisTimeoutError)

    def __init__(
        self,
        url: str,
        max_messages: int,
        *,
        prefix: str = "agent:",
        connect_attempts: int = CONNECT_ATTEMPTS,
        retry_delay: float = 1.0,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(max_messages)
        self.url = url
        self.timeout = timeout
        self.prefix = prefix
        self.connect_attempts = connect_attempts
        self.retry_delay = retry_delay
        self._client: Redis | None = None

    @property
    def client(self) -> Redis:
        if self._client is None:
            raise RuntimeError("the Redis store is not connected")
        return self._client

    async def connect(self) -> None:
        pool = BlockingConnectionPool.from_url(
            self.url,
            max_connections=MAX_CONNECTIONS,
            timeout=self.timeout,
            decode_responses=True,
            socket_timeout=self.timeout,
            socket_connect_timeout=self.timeout,
            health_check_interval=30,
        )
        self._client = Redis.from_pool(pool)  # the client owns (and closes) the pool
        for attempt in range(1, self.connect_attempts + 1):
            try:
                # redis-py 7's asyncio stubs type commands as "Awaitable | value".
                await self._client.ping()  # type: ignore[misc]
                return
            except (RedisConnectionError, RedisTimeoutError):
                if attempt == self.connect_attempts:
                    await self._client.aclose()
                    self._client = None
                    raise
                logger.warning("redis not reachable yet, retrying", extra={"attempt": attempt})
                await asyncio.sleep(self.retry_delay)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())  # type: ignore[misc]
        except (RedisError, RuntimeError):
            return False

    def _session_key(self, session_id: str) -> str:
        return f"{self.prefix}session:{session_id}"

    async def load(self, session_id: str) -> list[Message]:
        key = self._session_key(session_id)
        raw: list[Any] = await self.client.lrange(key, 0, -1)  # type: ignore[misc]
        return [json.loads(item) for item in raw]

    async def append(self, session_id: str, messages: list[Message]) -> None:
        if not messages:
            return
        key = self._session_key(session_id)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.rpush(key, *(json.dumps(message, separators=(",", ":")) for message in messages))
            pipe.ltrim(key, -self.max_messages, -1)
            pipe.expire(key, SESSION_TTL_SECONDS)
            await pipe.execute()

    async def incr(self, key: str, amount: int, ttl_seconds: int) -> int:
        full_key = f"{self.prefix}counter:{key}"
        async with self.client.pipeline(transaction=True) as pipe:
            # The TTL is set when the counter is created, never extended.
            pipe.set(full_key, 0, ex=ttl_seconds, nx=True)
            pipe.incrby(full_key, amount)
            _, value = await pipe.execute()
        return int(value)

    async def get_counter(self, key: str) -> int:
        value = await self.client.get(f"{self.prefix}counter:{key}")
        return int(value) if value else 0

    async def get_value(self, key: str) -> str | None:
        value = await self.client.get(f"{self.prefix}value:{key}")
        return str(value) if value is not None else None

    async def set_value(self, key: str, value: str, ttl_seconds: int) -> None:
        await self.client.set(f"{self.prefix}value:{key}", value, ex=ttl_seconds)
