"""The daily token budget (TOKEN_BUDGET_DAILY tokens per UTC day, 0 = unlimited).

The counter lives in the session store, so with Redis or Postgres it is shared
by every worker and pod. At BUDGET_WARNING_RATIO (80 % by default) a warning is
logged once per day and the ``agent_token_budget_used_ratio`` gauge follows the
ratio; at 100 % new turns get 429 ``budget_exceeded`` with ``Retry-After``
pointing at the next UTC midnight. The budgets per API key and per user
(``key_budget.py``) are ``TokenBudget`` objects too, with their own counters.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from .. import observability
from ..sessions.base import SessionStore
from ..web.errors import BudgetExceeded

logger = logging.getLogger(__name__)

WARNING_RATIO = 0.8
COUNTER_TTL_SECONDS = 2 * 24 * 3600


def utc_now() -> datetime:
    return datetime.now(UTC)


def seconds_to_utc_midnight(now: datetime) -> int:
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, math.ceil((midnight - now).total_seconds()))


class TokenBudget:
    def __init__(
        self,
        store: SessionStore,
        daily_limit: int,
        clock: Callable[[], datetime] = utc_now,
        *,
        warning_ratio: float = WARNING_RATIO,
        counter: str = "budget",
        on_ratio: Callable[[float], None] | None = None,
        log_fields: dict[str, str] | None = None,
    ) -> None:
        """``counter`` names the store counter (one per UTC day), ``on_ratio``
        receives the used share (default: the service-wide gauge), ``log_fields``
        go into the warning line (the budget's owner, never a key)."""
        self.store = store
        self.daily_limit = daily_limit
        self.warning_ratio = warning_ratio
        self.counter = counter
        self._on_ratio = on_ratio or observability.set_budget_ratio
        self._log_fields = log_fields or {}
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self.daily_limit > 0

    def _key(self, now: datetime) -> str:
        return f"{self.counter}:{now.date().isoformat()}"

    def now(self) -> datetime:
        return self._clock()

    async def used_today(self, now: datetime | None = None) -> int:
        return await self.store.get_counter(self._key(now or self._clock()))

    async def check(self) -> None:
        """Raise ``BudgetExceeded`` when today's budget is spent."""
        if not self.enabled:
            return
        now = self._clock()
        used = await self.store.get_counter(self._key(now))
        self._on_ratio(min(1.0, used / self.daily_limit))
        if used >= self.daily_limit:
            raise BudgetExceeded(retry_after=seconds_to_utc_midnight(now))

    async def consume(self, tokens: int) -> None:
        if not self.enabled or tokens <= 0:
            return
        now = self._clock()
        key = self._key(now)
        used = await self.store.incr(key, tokens, COUNTER_TTL_SECONDS)
        ratio = used / self.daily_limit
        self._on_ratio(min(1.0, ratio))
        if ratio >= self.warning_ratio:
            first = await self.store.incr(f"{key}:warned", 1, COUNTER_TTL_SECONDS) == 1
            if first:
                logger.warning(
                    "token budget above %d percent",
                    round(self.warning_ratio * 100),
                    extra={
                        **self._log_fields,
                        "used_tokens": used,
                        "daily_limit": self.daily_limit,
                    },
                )
