"""The ledger exports its own spans only when an OTLP endpoint is configured, and never when
the SDK is disabled (OTEL_SDK_DISABLED), as the OpenTelemetry SDK's own variables say."""

from __future__ import annotations

import pytest

from ledger.http.telemetry import wanted

ENDPOINT = "http://127.0.0.1:4318"


@pytest.mark.parametrize(
    ("environ", "exported"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ENDPOINT + "/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_SDK_DISABLED": "TRUE"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_SDK_DISABLED": "false"}, True),
        ({"OTEL_SERVICE_NAME": "ledger"}, False),
    ],
)
def test_spans_are_exported_only_to_a_configured_endpoint(
    environ: dict[str, str], exported: bool
) -> None:
    assert wanted(environ) is exported
