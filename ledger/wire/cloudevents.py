"""Ledger events as CloudEvents 1.0 (structured JSON) carrying CDEvents v0.5 data.

The CDEvents type is used where one fits (a build finished, a service deployed, upgraded or
rolled back, an environment modified); the others get a ``dev.cdeventsx.ledger-…`` type.
Secret config values never appear: the caller passes the event already redacted. A write's
W3C trace context travels as the ``traceparent`` and ``tracestate`` extension attributes (the
CloudEvents distributed tracing extension), left out when the write had none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from ledger.domain.events import (
    BuildRecorded,
    ConfigChanged,
    LedgerEvent,
    ReleaseCreated,
)
from ledger.wire.tracecontext import TraceContext

CDEVENTS_VERSION = "0.5.1"
SOURCE = "/release-ledger"
UNPUBLISHED = "dev.cdeventsx.ledger-event.recorded.0.1.0"
"""The type of an event its class does not publish, when it is converted all the same."""
_META = frozenset(LedgerEvent.__struct_fields__)


class CloudEvent(msgspec.Struct, kw_only=True, omit_defaults=True, rename={"data_": "data"}):
    """A CloudEvents 1.0 event in structured mode, with the ledger's extensions (the
    distributed tracing extension's attributes only when the event has a trace)."""

    specversion: str
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    datacontenttype: str
    ledgerposition: int
    ledgeractor: str
    ledgeractorkind: str
    ledgerkind: str
    traceparent: str | None = None
    tracestate: str | None = None
    data_: dict[str, Any]

    def trace_headers(self) -> dict[str, str]:
        """The W3C trace context headers that carry the event's trace on (none without one)."""
        return TraceContext(traceparent=self.traceparent, tracestate=self.tracestate).headers()


def artifact_purl(app: str, digest: str) -> str:
    """The package URL of a build's artifact (an OCI image named after the app)."""
    return f"pkg:oci/{app}@{quote(digest, safe='')}"


def subject_of(event: LedgerEvent) -> str:
    return f"{event.app}/{event.env}" if event.env else event.app


def to_cloudevent(event: LedgerEvent, position: int, kind: str, first_release: bool) -> CloudEvent:
    """The CloudEvent of a (redacted) ledger event at a global position."""
    cd_type, content = _cdevent_type(event, first_release)
    context = {
        "specversion": CDEVENTS_VERSION,
        "id": str(event.event_id),
        "source": f"{SOURCE}/{event.app}",
        "type": cd_type,
        "timestamp": _rfc3339(event.timestamp),
    }
    if event.correlation_id:
        context["chainId"] = _chain_id(event.correlation_id)
    data = {
        "context": context,
        "subject": {"id": subject_of(event), "source": f"{SOURCE}/{event.app}", "content": content},
        "customData": _custom_data(event, position, kind),
        "customDataContentType": "application/json",
    }
    return CloudEvent(
        specversion="1.0",
        id=str(event.event_id),
        source=f"{SOURCE}/{event.app}",
        type=cd_type,
        subject=subject_of(event),
        time=event.timestamp,
        datacontenttype="application/json",
        ledgerposition=position,
        ledgeractor=event.actor,
        ledgeractorkind=event.actor_kind,
        ledgerkind=kind,
        traceparent=event.traceparent,
        tracestate=event.tracestate if event.traceparent else None,
        data_=data,
    )


def _cdevent_type(event: LedgerEvent, first_release: bool) -> tuple[str, dict[str, Any]]:
    """The event's type (as its class declares it) and the content of its CDEvents subject.

    A release of a build is the CDEvents service event of what it did to the service."""
    declared = event.cloudevent_type or UNPUBLISHED
    if isinstance(event, BuildRecorded):
        return declared, {"artifactId": artifact_purl(event.app, event.artifact.digest)}
    if isinstance(event, ConfigChanged):
        return declared, {"name": event.env or ""}
    if isinstance(event, ReleaseCreated) and event.release.artifact_digest:
        predicate = {"rollback": "rolledback"}.get(event.cause)
        predicate = predicate or ("deployed" if first_release else "upgraded")
        return f"dev.cdevents.service.{predicate}.0.3.0", {
            "environment": {"id": event.env or "", "source": f"{SOURCE}/{event.app}"},
            "artifactId": artifact_purl(event.app, event.release.artifact_digest),
        }
    return declared, _specific(event)


def _custom_data(event: LedgerEvent, position: int, kind: str) -> dict[str, Any]:
    return {
        "position": position,
        "kind": kind,
        "app": event.app,
        "env": event.env,
        "actor": event.actor,
        "actorKind": event.actor_kind,
        "authenticated": event.authenticated,
        "via": event.via,
        "reason": event.reason,
        "occurredAt": _rfc3339(event.occurred_at),
        "correlationId": event.correlation_id,
        "prevHash": event.prev_hash,
        "event": type(event).__name__,
        "data": _specific(event),
    }


def _specific(event: LedgerEvent) -> dict[str, Any]:
    fields = {f: getattr(event, f) for f in event.__struct_fields__ if f not in _META}
    data: dict[str, Any] = msgspec.to_builtins(fields)
    return data


def _chain_id(correlation_id: str) -> str:
    """CDEvents chain ids are UUIDs: a pipeline run id maps to a stable one."""
    try:
        return str(UUID(correlation_id))
    except ValueError:
        return str(uuid5(NAMESPACE_URL, f"release-ledger:run:{correlation_id}"))


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
