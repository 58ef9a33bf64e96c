"""OpenTelemetry providers and the contract's instruments, one set per worker process."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dotenv import dotenv_values
from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, ExemplarFilter, MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from lite_agent_with_the_longest_allowed_name import __version__

from .. import observability_contract as contract
from ..observability_contract import MetricSpec
from ._histograms import CUMULATIVE, Histograms, WithHistograms
from ._sampling import sampler_from_env

if TYPE_CHECKING:
    from ..middleware import ASGIApp

log = logging.getLogger(__name__)

SERVICE_NAME = "lite-agent-with-the-longest-allowed-name"
INSTRUMENTATION_SCOPE = "lite_agent_with_the_longest_allowed_name"


class Tally:
    """Cumulative sums by label values, read by an observable instrument at each export.

    Why not the SDK's synchronous instruments: they build, validate and hash a
    measurement per call. In create-agent-service's benchmark (its
    ``instruments`` group: CPU time, interleaved rounds) the eight metric
    updates of one fake-model ``/v1/chat`` turn cost about 57 µs with the SDK's
    counters and histograms against 3.5 µs here, on a 616 µs turn: 8 % of the
    turn's throughput, over the 5 % a hand-written instrument must save to stay.
    """

    def __init__(self, *names: str) -> None:
        self.names = names
        self.values: dict[tuple[str, ...], float] = {}
        self.lock = threading.Lock()

    def add(self, amount: float, *values: str) -> None:
        with self.lock:
            self.values[values] = self.values.get(values, 0) + amount

    def set(self, value: float, *values: str) -> None:
        """For a gauge: the latest value by label values."""
        with self.lock:
            self.values[values] = value

    def observe(self, options: CallbackOptions) -> Iterable[Observation]:
        with self.lock:
            items = list(self.values.items())
        return [Observation(total, dict(zip(self.names, key, strict=True))) for key, total in items]


def _observable(meter: Meter, spec: MetricSpec, tally: Tally) -> None:
    """Register ``spec`` as an observable instrument reading ``tally``."""
    create = (
        meter.create_observable_up_down_counter
        if spec.kind == "updown"
        else meter.create_observable_counter
    )
    create(spec.name, callbacks=[tally.observe], unit=spec.unit, description=spec.description)


class Instruments:
    """The contract's metrics, from ``observability_contract.METRICS``.

    Counters and the in-flight gauge are observable instruments over a ``Tally``;
    the duration histograms are ``Histograms``, exported by ``WithHistograms``.
    """

    def __init__(self, meter: Meter, histograms: Histograms | None = None) -> None:
        self.histograms = histograms or Histograms()
        self.requests = Tally(*contract.REQUESTS.labels)
        self.active_requests = Tally()
        self.active_requests.values[()] = 0
        self.llm_calls = Tally(*contract.LLM_CALLS.labels)
        self.tokens = Tally(*contract.TOKENS.labels)
        self.tool_calls = Tally(*contract.TOOL_CALLS.labels)
        self.cost = Tally(*contract.COST.labels)
        self.key_budget_ratios = Tally(*contract.KEY_BUDGET_RATIO.labels)
        self.response_cache = Tally(*contract.RESPONSE_CACHE.labels)
        self.runs = Tally(*contract.RUNS.labels)
        for status in contract.RUN_STATUSES:
            self.runs.values[(status,)] = 0
        self.queue_depth = Tally()
        _observable(meter, contract.REQUESTS, self.requests)
        _observable(meter, contract.ACTIVE_REQUESTS, self.active_requests)
        _observable(meter, contract.LLM_CALLS, self.llm_calls)
        _observable(meter, contract.TOKENS, self.tokens)
        _observable(meter, contract.TOOL_CALLS, self.tool_calls)
        _observable(meter, contract.COST, self.cost)
        meter.create_observable_gauge(
            contract.KEY_BUDGET_RATIO.name,
            callbacks=[self.key_budget_ratios.observe],
            unit=contract.KEY_BUDGET_RATIO.unit,
            description=contract.KEY_BUDGET_RATIO.description,
        )
        _observable(meter, contract.RESPONSE_CACHE, self.response_cache)
        _observable(meter, contract.RUNS, self.runs)
        meter.create_observable_gauge(
            contract.QUEUE_DEPTH.name,
            callbacks=[self.queue_depth.observe],
            unit=contract.QUEUE_DEPTH.unit,
            description=contract.QUEUE_DEPTH.description,
        )
        self.budget_used = meter.create_observable_gauge(
            contract.BUDGET_RATIO.name,
            callbacks=[_observe_budget],
            unit=contract.BUDGET_RATIO.unit,
            description=contract.BUDGET_RATIO.description,
        )

    def record_request_duration(self, seconds: float, route: str, method: str) -> None:
        self.histograms.request_duration.record(seconds, route, method)

    def record_llm_call_duration(self, seconds: float, model: str) -> None:
        self.histograms.llm_call_duration.record(seconds, model)

    def record_run_duration(self, seconds: float) -> None:
        self.histograms.run_duration.record(seconds)

    def record_queue_wait(self, seconds: float) -> None:
        self.histograms.queue_wait.record(seconds)


def exemplar_filter() -> ExemplarFilter | None:
    """Exemplars off unless OTEL_METRICS_EXEMPLAR_FILTER asks for them.

    The SDK's default (trace_based) samples an exemplar on every measurement in
    a sampled trace, a cost on each request; nothing downstream here (collector
    to Prometheus, Grafana) reads them. None: the SDK reads the variable.
    """
    if os.environ.get("OTEL_METRICS_EXEMPLAR_FILTER", "").strip():
        return None
    return AlwaysOffExemplarFilter()


def _observe_budget(options: CallbackOptions) -> Iterable[Observation]:
    return [Observation(_current.budget_ratio)]


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid: int | None = None
        self.tracer_provider: TracerProvider | None = None
        self.meter_provider: MeterProvider | None = None
        self.tracer: trace.Tracer = trace.NoOpTracer()
        self.instruments: Instruments = Instruments(metrics.NoOpMeter(INSTRUMENTATION_SCOPE))
        self.budget_ratio = 0.0


_current = _State()


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() == "true"


def _exporter_enabled(signal: str) -> bool:
    """Export a signal over OTLP/HTTP?

    OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER=none turns it off, =otlp on.
    Unset, it is on when an endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT
    or OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT): a service without a collector
    keeps its spans (trace ids, logs) but does not retry exports to nowhere.
    """
    choice = os.environ.get(f"OTEL_{signal}_EXPORTER", "").strip().lower()
    if choice:
        return choice != "none"
    return any(
        os.environ.get(name, "").strip()
        for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")
    )


def load_dotenv_otel(path: str = ".env") -> None:
    """OTEL_* variables of the development .env file, for the SDK (the real environment wins)."""
    if not os.path.isfile(path):
        return
    for key, value in dotenv_values(path).items():
        if key.startswith("OTEL_") and value is not None and key not in os.environ:
            os.environ[key] = value


def build_resource() -> Resource:
    """Resource from OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME, with defaults.

    service.instance.id is unique per worker process, so the collector keeps the
    cumulative series of several workers apart instead of overwriting them.
    """
    detected = Resource.create()
    defaults: dict[str, str] = {}
    if str(detected.attributes.get("service.name", "")).startswith("unknown_service"):
        defaults["service.name"] = SERVICE_NAME
    if "service.version" not in detected.attributes:
        defaults["service.version"] = __version__
    if "service.instance.id" not in detected.attributes:
        defaults["service.instance.id"] = f"{socket.gethostname()}-{os.getpid()}"
    return detected.merge(Resource(defaults))


def configure(
    tracer_provider: TracerProvider | None,
    meter_provider: MeterProvider | None,
    histograms: Histograms | None = None,
) -> None:
    """Use these providers (and the histograms their exporter reads) for the service's
    spans and metrics (setup() and tests)."""
    _current.tracer_provider = tracer_provider
    _current.meter_provider = meter_provider
    _current.tracer = (
        tracer_provider.get_tracer(INSTRUMENTATION_SCOPE, __version__)
        if tracer_provider is not None
        else trace.NoOpTracer()
    )
    meter: Meter = (
        meter_provider.get_meter(INSTRUMENTATION_SCOPE, __version__)
        if meter_provider is not None
        else metrics.NoOpMeter(INSTRUMENTATION_SCOPE)
    )
    _current.instruments = Instruments(meter, histograms)


def _instrument_httpx(
    tracer_provider: TracerProvider | None, meter_provider: MeterProvider | None
) -> None:
    instrumentor = HTTPXClientInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        return
    kwargs: dict[str, Any] = {}
    if tracer_provider is not None:
        kwargs["tracer_provider"] = tracer_provider
    if meter_provider is not None:
        kwargs["meter_provider"] = meter_provider
    instrumentor.instrument(**kwargs)


def prepare_process_tree(settings: object) -> None:
    """Nothing to prepare before the workers start: each worker sets up its own providers."""


def setup(settings: object) -> None:
    """Create this worker's tracer and meter providers from the OTEL_* variables."""
    with _current.lock:
        if _current.pid == os.getpid():
            return
        _current.pid = os.getpid()
        load_dotenv_otel()
        if _env_flag("OTEL_SDK_DISABLED"):
            configure(None, None)
            log.info("opentelemetry disabled by OTEL_SDK_DISABLED")
            return
        resource = build_resource()

        # OTEL_TRACES_SAMPLER: parentbased_ratelimited (._sampling) or any of the SDK's samplers
        tracer_provider = TracerProvider(resource=resource, sampler=sampler_from_env())
        if _exporter_enabled("TRACES"):
            tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))

        histograms = Histograms()
        readers: list[MetricReader] = []
        if _exporter_enabled("METRICS"):
            # interval from OTEL_METRIC_EXPORT_INTERVAL
            scope = InstrumentationScope(INSTRUMENTATION_SCOPE, __version__)
            exporter = WithHistograms(
                OTLPMetricExporter(preferred_temporality=CUMULATIVE), histograms, resource, scope
            )
            readers.append(PeriodicExportingMetricReader(exporter))
        meter_provider = MeterProvider(
            resource=resource,
            metric_readers=readers,
            exemplar_filter=exemplar_filter(),
        )

        # Deliberately not installed as the global providers: frameworks with their
        # own OpenTelemetry support (FastAPI's native telemetry turns on when a
        # global provider exists) would open a second, unrelated server span per
        # request. This module's middleware is the one server span, for every
        # framework; httpx gets the providers explicitly.
        configure(tracer_provider, meter_provider, histograms)
        _instrument_httpx(tracer_provider, meter_provider)
        log.info(
            "opentelemetry configured",
            extra={
                "otel_traces_exporter": "otlp" if _exporter_enabled("TRACES") else "none",
                "otel_metrics_exporter": "otlp" if readers else "none",
                "otel_traces_sampler": tracer_provider.sampler.get_description(),
            },
        )
        if not readers and not _exporter_enabled("TRACES"):
            log.info(
                "no OTLP endpoint configured (OTEL_EXPORTER_OTLP_ENDPOINT): nothing is exported"
            )


def shutdown() -> None:
    """Flush and stop this worker's exporters."""
    with _current.lock:
        tracer_provider, meter_provider = _current.tracer_provider, _current.meter_provider
        configure(None, None)
        _current.pid = None
    if tracer_provider is not None:
        try:
            tracer_provider.shutdown()
        except Exception:  # pragma: no cover - exporter failures must not break exit
            log.warning("opentelemetry tracer shutdown failed", exc_info=True)
    if meter_provider is not None:
        try:
            meter_provider.shutdown()
        except Exception:  # pragma: no cover
            log.warning("opentelemetry meter shutdown failed", exc_info=True)


def metrics_app() -> ASGIApp | None:
    """No scrape endpoint: metrics leave by OTLP, so /metrics is 404."""
    return None


def current_trace_ids() -> tuple[str, str] | None:
    """(trace_id, span_id) of the active span as lowercase hex, or None without one."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def tracer() -> trace.Tracer:
    return _current.tracer


def instruments() -> Instruments:
    return _current.instruments


def set_budget(ratio: float) -> None:
    _current.budget_ratio = float(ratio)
