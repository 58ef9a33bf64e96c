"""The contract's duration histograms, kept by the service and exported with the SDK's metrics.

The SDK's synchronous histogram builds a measurement object and hashes its
attributes on every ``record()`` (see ``_state.Tally`` for the measured cost). A
histogram only needs its bucket counts at export time, so
``DurationHistogram.record`` is a bisect and a few additions under a lock, and
``WithHistograms`` adds the counts to every export of the wrapped OTLP exporter
as regular cumulative OTLP histograms, with the names, units, labels and
buckets of ``observability_contract``.
"""

from __future__ import annotations

import math
import threading
import time
from bisect import bisect_left
from typing import Any

from opentelemetry.sdk.metrics import (
    Counter,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics import Histogram as HistogramInstrument
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from .. import observability_contract as contract
from ..observability_contract import MetricSpec

# Every instrument cumulative: the hand-written histograms are, and the
# collector's Prometheus exporter wants cumulative series.
CUMULATIVE: dict[type, AggregationTemporality] = dict.fromkeys(
    (
        Counter,
        UpDownCounter,
        HistogramInstrument,
        ObservableCounter,
        ObservableUpDownCounter,
        ObservableGauge,
    ),
    AggregationTemporality.CUMULATIVE,
)


class _Series:
    __slots__ = ("count", "counts", "max", "min", "total")

    def __init__(self, buckets: int) -> None:
        self.counts = [0] * buckets
        self.count = 0
        self.total = 0.0
        self.min = math.inf
        self.max = -math.inf


class DurationHistogram:
    """A cumulative explicit-bucket histogram of seconds by label values."""

    def __init__(self, spec: MetricSpec) -> None:
        self.spec = spec
        self.bounds = spec.buckets
        self.label_names = spec.labels
        self.start_time_unix_nano = time.time_ns()
        self._series: dict[tuple[str, ...], _Series] = {}
        self._lock = threading.Lock()

    def record(self, seconds: float, *labels: str) -> None:
        # bucket i counts bounds[i-1] < v <= bounds[i] (OTLP explicit buckets)
        index = bisect_left(self.bounds, seconds)
        with self._lock:
            series = self._series.get(labels)
            if series is None:
                series = self._series[labels] = _Series(len(self.bounds) + 1)
            series.counts[index] += 1
            series.count += 1
            series.total += seconds
            series.min = min(series.min, seconds)
            series.max = max(series.max, seconds)

    def metric(self, time_unix_nano: int) -> Metric | None:
        """The histogram as the SDK's export data; None before the first record."""
        with self._lock:
            points = [
                HistogramDataPoint(
                    attributes=dict(zip(self.label_names, labels, strict=True)),
                    start_time_unix_nano=self.start_time_unix_nano,
                    time_unix_nano=time_unix_nano,
                    count=series.count,
                    sum=series.total,
                    bucket_counts=list(series.counts),
                    explicit_bounds=list(self.bounds),
                    min=series.min,
                    max=series.max,
                )
                for labels, series in self._series.items()
            ]
        if not points:
            return None
        return Metric(
            name=self.spec.name,
            description=self.spec.description,
            unit=self.spec.unit,
            data=Histogram(
                data_points=points, aggregation_temporality=AggregationTemporality.CUMULATIVE
            ),
        )


class Histograms:
    """The contract's duration histograms."""

    def __init__(self) -> None:
        self.request_duration = DurationHistogram(contract.REQUEST_DURATION)
        self.llm_call_duration = DurationHistogram(contract.LLM_CALL_DURATION)
        self.run_duration = DurationHistogram(contract.RUN_DURATION)
        self.queue_wait = DurationHistogram(contract.QUEUE_WAIT)

    def metrics(self) -> list[Metric]:
        now = time.time_ns()
        every = (self.request_duration, self.llm_call_duration, self.run_duration, self.queue_wait)
        found = (h.metric(now) for h in every)
        return [m for m in found if m is not None]


class WithHistograms(MetricExporter):
    """Wraps a metric exporter: each export also carries the histograms, under ``scope``.

    The inner exporter must be built with ``preferred_temporality=CUMULATIVE`` too.
    """

    def __init__(
        self,
        inner: MetricExporter,
        histograms: Histograms,
        resource: Resource,
        scope: InstrumentationScope,
    ) -> None:
        super().__init__(preferred_temporality=CUMULATIVE)
        self.inner = inner
        self.histograms = histograms
        self.resource = resource
        self.scope = scope

    def with_histograms(self, data: MetricsData) -> MetricsData:
        extra = self.histograms.metrics()
        if not extra:
            return data
        resource_metrics = list(data.resource_metrics)
        if not resource_metrics:
            resource_metrics = [ResourceMetrics(self.resource, [], "")]
        first = resource_metrics[0]
        scopes = list(first.scope_metrics)
        for i, scope_metrics in enumerate(scopes):
            if scope_metrics.scope.name == self.scope.name:
                scopes[i] = ScopeMetrics(
                    scope_metrics.scope,
                    [*scope_metrics.metrics, *extra],
                    scope_metrics.schema_url,
                )
                break
        else:
            scopes.append(ScopeMetrics(self.scope, extra, ""))
        resource_metrics[0] = ResourceMetrics(first.resource, scopes, first.schema_url)
        return MetricsData(resource_metrics)

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        return self.inner.export(
            self.with_histograms(metrics_data), timeout_millis=timeout_millis, **kwargs
        )

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.inner.force_flush(timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.inner.shutdown(timeout_millis=timeout_millis, **kwargs)
