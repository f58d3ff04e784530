"""The ledger's own spans, optional: with ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set, the server traces its HTTP requests (continuing
an incoming ``traceparent``) and its asyncpg queries with the OpenTelemetry SDK, and exports
the spans over OTLP/HTTP. The SDK reads its own ``OTEL_*`` variables (headers, timeout,
sampler, batching, resource attributes). Without an endpoint nothing of OpenTelemetry is
imported, and the packages are needed only then (the ``otel`` extra)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource

log = logging.getLogger("ledger.telemetry")
ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
PROTOCOLS = ("OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
SPOKEN = "http/protobuf"
SERVICE = "release-ledger"
EXCLUDED = "OTEL_PYTHON_AIOHTTP_SERVER_EXCLUDED_URLS"
PROBES = "/healthz$,/readyz$,/metrics$"
"""Paths left untraced unless OTEL_PYTHON_(AIOHTTP_SERVER_)EXCLUDED_URLS says otherwise:
probes and scrapes would bury the requests that change something."""
Stop = Callable[[], None]


def wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """An OTLP endpoint is configured and the SDK is not disabled (OTEL_SDK_DISABLED)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(environ.get(name, "").strip() for name in ENDPOINTS)


def start_tracing() -> Stop | None:
    """Trace the server, before its application is made; returns what flushes the spans
    left and stops, or None when tracing is not wanted or its packages are missing."""
    if not wanted():
        return None
    for name in PROTOCOLS:
        if os.environ.get(name, SPOKEN).strip() != SPOKEN:
            log.warning(f"{name} is not {SPOKEN}: spans are sent as {SPOKEN} all the same")
    try:
        return _start()
    except ImportError as missing:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: no spans "
            "are exported (install release-ledger[otel])",
            extra={"missing": missing.name},
        )
        return None


def _start() -> Stop:
    # on demand: OpenTelemetry is optional (the otel extra) and loads only to export spans
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=_resource())  # the sampler: OTEL_TRACES_SAMPLER
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    if not any(os.environ.get(name) for name in (EXCLUDED, "OTEL_PYTHON_EXCLUDED_URLS")):
        os.environ[EXCLUDED] = PROBES  # read by the instrumentor, and only there
    AioHttpServerInstrumentor().instrument(tracer_provider=provider)
    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    log.info("exporting spans over OTLP/HTTP", extra={"service": SERVICE})
    return provider.shutdown


def _resource() -> Resource:
    """service.name release-ledger and its version, unless OTEL_SERVICE_NAME or
    OTEL_RESOURCE_ATTRIBUTES say otherwise."""
    from opentelemetry.sdk.resources import OTELResourceDetector, Resource  # on demand: as above

    ours = {"service.name": SERVICE}
    with contextlib.suppress(metadata.PackageNotFoundError):  # run from a source tree
        ours["service.version"] = metadata.version(SERVICE)
    return Resource.create(ours).merge(OTELResourceDetector().detect())
