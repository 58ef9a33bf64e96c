"""The response cache (opt-in: ``RESPONSE_CACHE_TTL_SECONDS`` > 0).

Only first turns are cached (no history in the session: a later turn's answer
depends on what came before). An entry is an exact match on the normalised
message (Unicode NFC, surrounding whitespace stripped, inner runs of
whitespace as one space; case is kept), the model chain (``LLM_MODEL`` and
``LLM_FALLBACK_MODELS``), the system prompt, ``AGENT_MAX_OUTPUT_TOKENS`` and
the tool list's schemas, kept in the session store with the TTL. A hit
answers without a model call (usage 0/0; the answer, tool call list and model
as first given), and the session goes on from it as from any first turn.

Entries are per API key (its key id, an HMAC under ``KEY_ID_SECRET``, in the
store key, never the key) unless ``RESPONSE_CACHE_SHARED=true``; without API keys there is one
scope. Streams (``/v1/chat/stream``) neither read nor fill the cache: a
replay would come as one text delta with no model latency, unlike the
stream it stands for. Tool results are replayed for the TTL, so keep it below
the time a tool's answer stays true (``current_time``: do not cache, or a short TTL).

The store is trusted, but an entry that does not parse is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from .. import observability
from ..sessions.base import SessionStore
from .key_budget import current_owner
from .schemas import ToolCallInfo

logger = logging.getLogger(__name__)

# Bump when the cached entry's meaning changes, so old entries are never read.
KEY_VERSION = 2

_WHITESPACE = re.compile(r"\s+")


def normalise(message: str) -> str:
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", message)).strip()


class CachedAnswer(BaseModel):
    answer: str
    model: str
    tool_calls: list[ToolCallInfo]


class ResponseCache:
    def __init__(
        self,
        store: SessionStore,
        ttl_seconds: int,
        *,
        shared_across_keys: bool = False,
        fingerprint: Sequence[Any] = (),
    ) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds
        self.shared_across_keys = shared_across_keys
        # What else decides an answer (model chain, system prompt, output cap).
        self._fingerprint = list(fingerprint)

    @property
    def enabled(self) -> bool:
        return self.ttl_seconds > 0

    def _scope(self) -> str:
        # The caller's key id, set by admission (and by a background run for the
        # key that queued it): the same caller the budgets spend for.
        owner = current_owner.get()
        if self.shared_across_keys or owner is None:
            return "shared"
        return owner.key_id

    def key(self, message: str, tools: list[dict[str, Any]]) -> str:
        material = json.dumps(
            [KEY_VERSION, normalise(message), self._fingerprint, tools],
            separators=(",", ":"),
            sort_keys=True,
        )
        digest = hashlib.sha256(material.encode()).hexdigest()
        return f"response-cache:{self._scope()}:{digest}"

    async def get(self, key: str) -> CachedAnswer | None:
        raw = await self.store.get_value(key)
        entry: CachedAnswer | None = None
        if raw is not None:
            try:
                entry = CachedAnswer.model_validate_json(raw)
            except ValidationError:
                logger.warning("response cache entry unreadable, ignored")
        observability.record_response_cache("hit" if entry is not None else "miss")
        return entry

    async def put(self, key: str, entry: CachedAnswer) -> None:
        await self.store.set_value(key, entry.model_dump_json(), self.ttl_seconds)
