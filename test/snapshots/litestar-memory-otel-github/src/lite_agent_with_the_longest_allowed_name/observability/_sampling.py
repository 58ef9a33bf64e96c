"""The ``parentbased_ratelimited`` sampler: every trace while traffic is low, a bounded number under load.

Chosen like the SDK's own samplers, by the standard variables:
``OTEL_TRACES_SAMPLER=parentbased_ratelimited`` and ``OTEL_TRACES_SAMPLER_ARG``,
the most new traces recorded per second by one worker process (default 10).
Any other ``OTEL_TRACES_SAMPLER`` value is left to the SDK.

A request that arrives with a ``traceparent`` follows its caller's decision
(parent-based), so traces that start upstream stay whole. A request that is
not sampled still has a trace id: it is in ``X-Trace-Id``, in the response
body and in every log line; only its spans are not recorded or exported.
The metrics count every request whatever the sampler decides.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes

log = logging.getLogger(__name__)

NAME = "parentbased_ratelimited"
DEFAULT_RATE = 10.0


class RateLimitedSampler(Sampler):
    """Samples at most ``rate`` traces per second: a token bucket holding up to ``max(rate, 1)``."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not math.isfinite(rate) or rate < 0:
            raise ValueError(f"rate must be a finite number >= 0, not {rate!r}")
        self.rate = rate
        self.capacity = max(rate, 1.0)
        self._clock = clock
        self._tokens = self.capacity
        self._last = clock()
        self._lock = threading.Lock()

    def _take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False

    def should_sample(  # noqa: PLR0917 (the signature is the SDK's Sampler interface)
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        state = parent.trace_state if parent.is_valid else None
        if self._take():
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, state)
        return SamplingResult(Decision.DROP, None, state)

    def get_description(self) -> str:
        return f"RateLimitedSampler{{{self.rate:g}/s}}"


def rate_from_env() -> float:
    """OTEL_TRACES_SAMPLER_ARG as traces per second; unset or invalid: the default (logged)."""
    raw = os.environ.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
    if not raw:
        return DEFAULT_RATE
    try:
        rate = float(raw)
    except ValueError:
        rate = math.nan
    if not math.isfinite(rate) or rate < 0:
        log.warning(
            "OTEL_TRACES_SAMPLER_ARG is not a number of traces per second >= 0: using the default",
            extra={"value": raw, "default": DEFAULT_RATE},
        )
        return DEFAULT_RATE
    return rate


def sampler_from_env() -> Sampler | None:
    """The rate-limited sampler when OTEL_TRACES_SAMPLER names it; None: the SDK's choice."""
    if os.environ.get("OTEL_TRACES_SAMPLER", "").strip().lower() != NAME:
        return None
    return ParentBased(root=RateLimitedSampler(rate_from_env()))
