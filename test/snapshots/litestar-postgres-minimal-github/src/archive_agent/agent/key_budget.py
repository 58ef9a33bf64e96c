"""Daily token budgets per API key and per end user.

``KEY_TOKEN_BUDGET_DAILY`` tokens per API key per UTC day and, when the
deployment says it trusts the ``user_id`` its clients send
(``BUDGET_TRUST_USER_ID=true``), ``USER_TOKEN_BUDGET_DAILY`` per (key, user_id).
Each is a ``TokenBudget`` with its own counter in the session store, so Redis
and Postgres share it across workers and replicas (memory: one process).

The key's budget is checked in ``web/admission.admit()`` (before the body is
read, like the rate limit); the user's once the body is valid (the body names
the user). Both are spent when the turn ends, so turns already running when the
limit is reached may pass it by one turn's tokens each.

A key never appears in a log line, a metric or a store key: ``key_id()`` is a
keyed hash (HMAC-SHA256 with ``KEY_ID_SECRET``), stable across processes that
share the configuration, cut to 16 hex characters. Label cardinality is
bounded: the gauge ``agent_key_token_budget_used_ratio{key_id}`` carries the ids
of the first ``BUDGET_METRIC_KEYS_MAX`` keys of ``API_KEYS``; every later key
reports under ``key_id="_other"``, the highest ratio among them in this
process. Users are never labels (their number is unbounded): a user's warning
is a log line with a hashed user reference.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from .. import observability
from ..sessions.base import SessionStore
from .budget import TokenBudget, utc_now

OTHER_KEYS_LABEL = "_other"
# The HMAC key when KEY_ID_SECRET is empty: ids are still stable and not the
# key, but a short, guessable key could be found by trying candidates.
DEFAULT_KEY_ID_SECRET = "agent-service key id"  # noqa: S105 (a domain label, not a secret)
ID_HEX_CHARS = 16


def key_id(api_key: str, secret: str = "") -> str:
    """The stable, non-reversible short id of an API key (logs, metrics, counters)."""
    mac = hmac.new((secret or DEFAULT_KEY_ID_SECRET).encode(), api_key.encode(), hashlib.sha256)
    return mac.hexdigest()[:ID_HEX_CHARS]


@dataclass(frozen=True)
class BudgetOwner:
    """Who the current request spends for: set by ``admit()``, read by the agent."""

    key_id: str


# Set in admit() in the request's own context; the agent turn (also a stream's
# task, which copies the context) reads it to spend on the caller's budgets.
current_owner: ContextVar[BudgetOwner | None] = ContextVar("budget_owner", default=None)


@dataclass(frozen=True)
class BudgetUsage:
    used_tokens: int
    limit_tokens: int

    @property
    def remaining_tokens(self) -> int | None:
        if self.limit_tokens <= 0:
            return None
        return max(0, self.limit_tokens - self.used_tokens)


class KeyBudgets:
    def __init__(
        self,
        store: SessionStore,
        *,
        api_keys: tuple[str, ...] = (),
        key_limit: int = 0,
        user_limit: int = 0,
        trust_user_id: bool = False,
        warning_ratio: float = 0.8,
        secret: str = "",
        metric_keys_max: int = 50,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.key_limit = key_limit
        self.user_limit = user_limit if trust_user_id else 0
        self.warning_ratio = warning_ratio
        self._secret = secret
        self._clock = clock
        # Computed once: the keys are configured, so this map is as bounded as API_KEYS.
        self._ids = {key: key_id(key, secret) for key in dict.fromkeys(api_keys)}
        self._labels = {
            ident: ident if index < metric_keys_max else OTHER_KEYS_LABEL
            for index, ident in enumerate(self._ids.values())
        }
        self._other_ratios: dict[str, float] = {}
        self._key_budgets: dict[str, TokenBudget] = {}

    def id_of(self, api_key: str) -> str:
        return self._ids.get(api_key) or key_id(api_key, self._secret)

    def label_of(self, ident: str) -> str:
        return self._labels.get(ident, OTHER_KEYS_LABEL)

    def _set_key_ratio(self, ident: str, ratio: float) -> None:
        label = self.label_of(ident)
        if label == OTHER_KEYS_LABEL:
            self._other_ratios[ident] = ratio
            ratio = max(self._other_ratios.values())
        observability.set_key_budget_ratio(label, ratio)

    def key_budget(self, ident: str) -> TokenBudget:
        budget = self._key_budgets.get(ident)
        if budget is None:
            budget = self._key_budgets[ident] = TokenBudget(
                self.store,
                self.key_limit,
                self._clock,
                warning_ratio=self.warning_ratio,
                counter=f"budget:key:{ident}",
                on_ratio=lambda ratio: self._set_key_ratio(ident, ratio),
                log_fields={"budget": "api_key", "key_id": ident},
            )
        return budget

    def user_budget(self, ident: str | None, user_id: str) -> TokenBudget:
        # Not cached: user ids are unbounded. Hashed with the key id: the same
        # user_id under two keys is two users.
        user_ref = key_id(f"{ident or '-'}:{user_id}", self._secret)
        return TokenBudget(
            self.store,
            self.user_limit,
            self._clock,
            warning_ratio=self.warning_ratio,
            counter=f"budget:user:{user_ref}",
            on_ratio=_ignore_ratio,
            log_fields={"budget": "user", "key_id": ident or "", "user_ref": user_ref},
        )

    async def admit(self, api_key: str | None, *, spends_tokens: bool) -> None:
        """Remember the caller for the turn; when the request spends tokens,
        raise ``BudgetExceeded`` if the key's budget is spent."""
        if api_key is None:
            current_owner.set(None)
            return
        ident = self.id_of(api_key)
        current_owner.set(BudgetOwner(ident))
        if spends_tokens and self.key_limit > 0:
            await self.key_budget(ident).check()

    async def check_user(self, user_id: str | None) -> None:
        if self.user_limit > 0 and user_id:
            await self.user_budget(_current_key_id(), user_id).check()

    async def consume(self, tokens: int, user_id: str | None) -> None:
        ident = _current_key_id()
        if ident is not None and self.key_limit > 0:
            await self.key_budget(ident).consume(tokens)
        if self.user_limit > 0 and user_id:
            await self.user_budget(ident, user_id).consume(tokens)

    async def key_usage(self, ident: str, now: datetime) -> BudgetUsage:
        used = await self.key_budget(ident).used_today(now)
        return BudgetUsage(used_tokens=used, limit_tokens=self.key_limit)

    def now(self) -> datetime:
        return self._clock()


def _current_key_id() -> str | None:
    owner = current_owner.get()
    return owner.key_id if owner is not None else None


def _ignore_ratio(ratio: float) -> None:
    return None
