"""The CloudEvents bindings: one CDEvent out of an HTTP request or a NATS message.

Structured mode carries the CloudEvent as JSON (``application/cloudevents+json``) with the
CDEvent as its ``data``; binary mode carries the attributes in ``ce-*`` headers and the CDEvent
as the body. A body that is a CDEvent alone (``{context, subject}``) is taken as well. In the
CDEvents binding the CloudEvent's id, source and type are the CDEvent context's. A CloudEvent's
``traceparent`` and ``tracestate`` (the distributed tracing extension) name the trace the event
started in; an invalid one is ignored.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Literal, TypeVar
from urllib.parse import unquote

import msgspec
from msgspec import Struct

from ledger.domain.commands import Context
from ledger.domain.errors import Invalid
from ledger.domain.text import RULE, Storable, decode_json, unstorable_at
from ledger.ingest.problems import Malformed, Unmappable, UnsupportedMedia
from ledger.ingest.schema import CDEvent, CDType, Id, Source
from ledger.wire.tracecontext import NO_TRACE, TraceContext, trace_context

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
T = TypeVar("T")


class Attributes(Struct, frozen=True, kw_only=True):
    """A CloudEvent's context attributes and, in structured mode, its data."""

    specversion: Literal["1.0"]
    id: Id
    source: Source
    type: CDType
    datacontenttype: Storable | None = None
    data: Any = None
    data_base64: Storable | None = None
    traceparent: Any = None  # any type: an invalid traceparent is ignored, never refused
    tracestate: Any = None

    def trace(self) -> TraceContext:
        """The trace context of the distributed tracing extension, if the event carries one."""
        if not isinstance(self.traceparent, str):
            return NO_TRACE
        state = [self.tracestate] if isinstance(self.tracestate, str) else []
        return trace_context([self.traceparent], state)


class Received(Struct, frozen=True):
    """A CDEvent, and the trace context of the CloudEvent that carried it."""

    event: CDEvent
    trace: TraceContext = NO_TRACE


def traced(sender: Context, received: Received) -> Context:
    """The sender's context in the CloudEvent's trace when it names one: the trace the event
    started in, which the transport's own headers (one hop of many) may not be."""
    trace = received.trace
    if trace.traceparent is None:
        return sender
    return msgspec.structs.replace(
        sender, traceparent=trace.traceparent, tracestate=trace.tracestate
    )


def from_http(headers: Mapping[str, str], body: bytes) -> Received:
    """The CDEvent of a request (and its CloudEvent's trace), whichever mode its Content-Type
    and headers say it uses."""
    declared = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    media = declared.partition(";")[0].strip().lower()
    if media == BATCH:
        raise UnsupportedMedia("batched CloudEvents are not taken: send one event per request")
    if media.startswith("application/cloudevents"):
        if media != STRUCTURED:
            raise UnsupportedMedia(f"structured CloudEvents are taken as {STRUCTURED} only")
        return structured(_object(body))
    attributes = {k.lower()[3:]: unquote(v) for k, v in headers.items() if _is_ce(k)}
    return binary(attributes, body) if attributes else undeclared(body)


def from_nats(headers: Mapping[str, str] | None, body: bytes) -> Received:
    """The CDEvent of a NATS message (and its CloudEvent's trace): binary with ce-* headers,
    else structured or plain."""
    attributes = {k.lower()[3:]: v for k, v in (headers or {}).items() if _is_ce(k)}
    return binary(attributes, body) if attributes else undeclared(body)


def structured(envelope: dict[str, Any]) -> Received:
    """A CloudEvent in the JSON event format whose data is the CDEvent."""
    attributes = _convert(envelope, Attributes, "not a CloudEvents 1.0 event", skip="data")
    if attributes.data_base64 is not None:
        try:
            data = _object(base64.b64decode(attributes.data_base64, validate=True))
        except binascii.Error as error:
            raise Malformed(f"data_base64 is not base64: {error}") from None
    elif isinstance(attributes.data, str):
        data = _object(attributes.data.encode("utf-8", "surrogatepass"))
    elif isinstance(attributes.data, dict):
        data = attributes.data
    else:
        raise Malformed("the CloudEvent's data must be the CDEvent, a JSON object", field="data")
    return _matching(attributes, data)


def binary(headers: dict[str, str], body: bytes) -> Received:
    """A CloudEvent whose attributes came as ce-* headers and whose body is the CDEvent."""
    attributes = _convert(headers, Attributes, "not a CloudEvents 1.0 event (ce-* headers)")
    return _matching(attributes, _object(body))


def undeclared(body: bytes) -> Received:
    """A body that says what it is by its keys: a CDEvent, or a structured CloudEvent."""
    data = _object(body)
    if "context" in data:
        return Received(_convert(data, CDEvent, "not a CDEvent"))
    if "specversion" in data:
        return structured(data)
    raise Malformed("the body is neither a CloudEvent nor a CDEvent ({context, subject})")


def _matching(attributes: Attributes, data: dict[str, Any]) -> Received:
    event = _convert(data, CDEvent, "the CloudEvent's data is not a CDEvent")
    for name in ("id", "source", "type"):
        outer, inner = getattr(attributes, name), getattr(event.context, name)
        if outer != inner:
            raise Malformed(
                f"the CloudEvent's {name} {outer!r} differs from the CDEvent's "
                f"context.{name} {inner!r}",
                field=name,
            )
    return Received(event, attributes.trace())


def _is_ce(header: str) -> bool:
    return header.lower().startswith("ce-")


def _object(raw: bytes) -> dict[str, Any]:
    try:
        value = decode_json(raw)
    except msgspec.DecodeError as error:
        raise Malformed(f"the body is not valid JSON: {error}") from None
    except Invalid as error:
        raise Unmappable(error.detail, field=error.field) from None
    if not isinstance(value, dict):
        raise Malformed("the event must be a JSON object")
    return value


def _convert(data: dict[str, Any], cls: type[T], what: str, skip: str = "") -> T:
    """The value as ``cls``; a string that cannot be stored is refused naming its field
    (``skip``: a member checked on its own, the CloudEvent's data)."""
    at = unstorable_at({k: v for k, v in data.items() if k != skip})
    if at is not None:
        raise Unmappable(f"{at}: {RULE}", field=at)
    try:
        return msgspec.convert(data, cls)
    except msgspec.ValidationError as error:
        raise Malformed(f"{what}: {error}") from None
