"""A CDEvent arrives as a CloudEvent in structured or binary mode, or alone; whichever way,
the ledger reads the same event, and anything that is not one is refused as malformed."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from cloudevents.v1.conversion import to_binary, to_structured
from cloudevents.v1.http import CloudEvent

from ledger.domain.commands import Context
from ledger.ingest.binding import from_http, from_nats, traced
from ledger.ingest.problems import IngestError, Malformed, UnsupportedMedia
from ledger.ingest.schema import CDEvent
from ledger.wire.tracecontext import TraceContext

from ...cdevents import ACCEPTED

MODES = ("structured", "binary", "plain")
Event = dict[str, Any]
Wrap = Callable[[Event, str], tuple[dict[str, str], bytes]]
JSON = {"Content-Type": "application/json"}


def envelope(event: Event, **changes: Any) -> Event:
    context = event["context"]
    attributes = {k: context[k] for k in ("id", "source", "type")}
    return {"specversion": "1.0", **attributes, "data": event} | changes


def ce_headers(event: Event) -> dict[str, str]:
    context = event["context"]
    return {f"ce-{k}": context[k] for k in ("id", "source", "type")} | {"ce-specversion": "1.0"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ACCEPTED)
def test_each_mode_carries_the_same_cdevent(
    name: str, mode: str, cdevent: Callable[[str], Event], wrapped: Wrap
) -> None:
    event = cdevent(name)
    headers, body = wrapped(event, mode)
    assert from_http(headers, body).event == msgspec.convert(event, CDEvent)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ACCEPTED)
def test_the_specifications_examples_are_read_in_each_mode(
    name: str, mode: str, spec_example: Callable[[str], Event], wrapped: Wrap
) -> None:
    event = spec_example(name)
    headers, body = wrapped(event, mode)
    parsed = from_http(headers, body).event
    assert (parsed.context.type, parsed.subject.id) == (
        event["context"]["type"],
        event["subject"]["id"],
    )


def test_a_structured_cloudevent_sent_as_plain_json_is_recognised(
    cdevent: Callable[[str], Event],
) -> None:
    event = cdevent("service_deployed")
    received = from_http(JSON, json.dumps(envelope(event)).encode())
    assert received.event == msgspec.convert(event, CDEvent)


@pytest.mark.parametrize(
    "data",
    [
        lambda e: {"data": json.dumps(e)},
        lambda e: {"data": None, "data_base64": base64.b64encode(json.dumps(e).encode()).decode()},
    ],
    ids=["data-as-a-json-string", "data_base64"],
)
def test_structured_data_may_come_encoded(
    data: Callable[[Event], Event], cdevent: Callable[[str], Event]
) -> None:
    event = cdevent("build_finished")
    body = json.dumps(envelope(event, **data(event))).encode()
    headers = {"content-type": "application/cloudevents+json; charset=utf-8"}
    assert from_http(headers, body).event == msgspec.convert(event, CDEvent)


def test_binary_header_values_are_percent_decoded(cdevent: Callable[[str], Event]) -> None:
    event = cdevent("service_deployed")
    event["context"]["source"] = "/argocd/acme cluster"
    headers = ce_headers(event) | {"ce-source": "/argocd/acme%20cluster"}
    assert (
        from_http(headers, json.dumps(event).encode()).event.context.source
        == "/argocd/acme cluster"
    )


@pytest.mark.parametrize("mode", ["binary", "structured", "plain"])
def test_a_nats_message_carries_the_cdevent_in_each_mode(
    mode: str, cdevent: Callable[[str], Event]
) -> None:
    event = cdevent("service_upgraded")
    headers = ce_headers(event) if mode == "binary" else None
    body = envelope(event) if mode == "structured" else event
    assert from_nats(headers, json.dumps(body).encode()).event == msgspec.convert(event, CDEvent)


def _drop_timestamp(event: Event) -> Event:
    del event["context"]["timestamp"]
    return event


def _naive_timestamp(event: Event) -> Event:
    event["context"]["timestamp"] = "2025-03-04T14:05:02"
    return event


def _no_subject(event: Event) -> Event:
    del event["subject"]
    return event


@pytest.mark.parametrize(
    ("headers", "body", "says"),
    [
        (JSON, lambda e: b"{not json", "not valid JSON"),
        (JSON, lambda e: b"[1, 2]", "JSON object"),
        (JSON, lambda e: b"{}", "neither a CloudEvent nor a CDEvent"),
        (JSON, lambda e: json.dumps(_drop_timestamp(e)).encode(), "timestamp"),
        (JSON, lambda e: json.dumps(_naive_timestamp(e)).encode(), "timezone"),
        (JSON, lambda e: json.dumps(_no_subject(e)).encode(), "subject"),
        (JSON, lambda e: json.dumps(envelope(e, specversion="0.3")).encode(), "specversion"),
        (JSON, lambda e: json.dumps(envelope(e, data=None)).encode(), "data must be the CDEvent"),
        (
            JSON,
            lambda e: json.dumps(envelope(e, id="other")).encode(),
            "differs from the CDEvent's context.id",
        ),
        ({"ce-specversion": "1.0", "ce-id": "x"}, lambda e: json.dumps(e).encode(), "source"),
    ],
    ids=[
        "bad-json",
        "array",
        "empty-object",
        "no-timestamp",
        "naive-timestamp",
        "no-subject",
        "old-specversion",
        "no-data",
        "id-mismatch",
        "binary-without-source",
    ],
)
def test_what_is_not_a_cloudevent_carrying_a_cdevent_is_malformed(
    headers: dict[str, str],
    body: Callable[[Event], bytes],
    says: str,
    cdevent: Callable[[str], Event],
) -> None:
    with pytest.raises(Malformed, match=says) as refused:
        from_http(headers, body(cdevent("service_deployed")))
    assert refused.value.status == 400


@pytest.mark.parametrize(
    "content_type", ["application/cloudevents-batch+json", "application/cloudevents+xml"]
)
def test_batches_and_non_json_formats_are_unsupported_media(
    content_type: str, cdevent: Callable[[str], Event]
) -> None:
    body = json.dumps(envelope(cdevent("build_finished"))).encode()
    with pytest.raises(UnsupportedMedia) as refused:
        from_http({"Content-Type": content_type}, body)
    assert refused.value.status == 415


def test_a_binary_event_whose_headers_contradict_its_cdevent_names_the_attribute(
    cdevent: Callable[[str], Event],
) -> None:
    event = cdevent("service_deployed")
    headers = ce_headers(event) | {"ce-type": "dev.cdevents.service.upgraded.0.3.0"}
    with pytest.raises(IngestError) as refused:
        from_nats(headers, json.dumps(event).encode())
    assert (refused.value.status, refused.value.field) == (400, "type")


TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b9c7c989f97918e1-01"


@pytest.mark.parametrize("mode", ["structured", "binary"])
def test_the_cloudevents_trace_context_is_read_in_either_mode(
    mode: str, cdevent: Callable[[str], Event]
) -> None:
    event = cdevent("service_deployed")
    extensions = {"traceparent": TRACEPARENT, "tracestate": "congo=t61rcWkgMzE"}
    attributes = {k: event["context"][k] for k in ("id", "source", "type")} | extensions
    cloudevent = CloudEvent(attributes | {"datacontenttype": "application/json"}, event)
    headers, body = to_structured(cloudevent) if mode == "structured" else to_binary(cloudevent)
    received = from_http(headers, body)
    assert received.trace == TraceContext(traceparent=TRACEPARENT, tracestate="congo=t61rcWkgMzE")
    assert received.event == msgspec.convert(event, CDEvent)


@pytest.mark.parametrize(
    "traceparent", ["00-0af7651916cd43dd8448eb211c80319c-b9c7c989f97918e1", 7, None]
)
def test_an_invalid_trace_context_is_ignored_not_refused(
    traceparent: object, cdevent: Callable[[str], Event]
) -> None:
    event = cdevent("build_finished")
    body = envelope(event, traceparent=traceparent, tracestate="congo=t61rcWkgMzE")
    received = from_http(JSON, json.dumps(body).encode())
    assert received.trace == TraceContext()
    assert received.event == msgspec.convert(event, CDEvent)


def test_the_cloudevents_trace_wins_over_the_transports(cdevent: Callable[[str], Event]) -> None:
    """The extension names the trace the event started in; a transport header names one hop."""
    hop = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    sender = Context(actor="argocd", traceparent=hop, tracestate="rojo=00f067aa0ba902b7")
    event = cdevent("service_deployed")
    started = from_nats(None, json.dumps(envelope(event, traceparent=TRACEPARENT)).encode())
    assert traced(sender, started).traceparent == TRACEPARENT
    assert traced(sender, started).tracestate is None
    alone = from_nats(None, json.dumps(event).encode())
    assert traced(sender, alone) == sender
