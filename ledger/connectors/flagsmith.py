"""Flagsmith's environment webhooks (and organisation webhooks, which carry the same flag
events besides audit log entries), signed with ``X-Flagsmith-Signature``: the hex
HMAC-SHA256 of the body keyed with the webhook's secret.

``FLAG_UPDATED`` with an environment's default state that turned on or off flips the ledger's
flag. Ignored: a feature state that came into being (a flag created: no previous state), an
identity or segment override (not the environment's flag), a change of the value alone, and
every other event type (``FLAG_DELETED``, ``AUDIT_LOG_CREATED``, ``NEW_VERSION_PUBLISHED``).
Flagsmith sends no delivery id: the id is the SHA-256 of the body, which Flagsmith builds
the same on every retry (its keys sorted) and which names the change's timestamp."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from msgspec import Struct

from ledger.connectors import flags
from ledger.connectors.flags import FlagState
from ledger.connectors.models import Mapping
from ledger.connectors.translation import Changes, Delivery, Lookup, Malformed, Skipped
from ledger.domain.events import ActorKind, Via

SIGNATURE = "x-flagsmith-signature"
FLAG_UPDATED = "FLAG_UPDATED"


class Named(Struct, frozen=True, kw_only=True):
    name: str = ""


class Feature(Struct, frozen=True, kw_only=True):
    name: str
    project: Named | None = None


class State(Struct, frozen=True, kw_only=True):
    """A feature state as Flagsmith's webhooks describe it."""

    enabled: bool
    feature: Feature
    environment: Named | None = None
    identity: int | str | None = None
    identity_identifier: str | None = None
    feature_segment: Any = None


class Change(Struct, frozen=True, kw_only=True):
    changed_by: str = ""
    new_state: State | None = None
    previous_state: State | None = None
    timestamp: str = ""


class Webhook(Struct, frozen=True, kw_only=True):
    event_type: str
    data: Any = None


class FlagsmithReceiver:
    kind: Via = "flagsmith"
    scopes = flags.SCOPES

    def verify(self, secret: str, delivery: Delivery) -> None:
        flags.verify_hmac(secret, delivery, SIGNATURE)

    def delivery_id(self, delivery: Delivery) -> str:
        return hashlib.sha256(delivery.body).hexdigest()

    async def translate(
        self, delivery: Delivery, mapping: Mapping, lookup: Lookup
    ) -> Changes | Skipped:
        webhook = flags.decoded(delivery, Webhook, "Flagsmith")
        if webhook.event_type != FLAG_UPDATED:
            return flags.ignored(webhook.event_type, f"{webhook.event_type} flips no flag")
        change = _change(webhook.data)
        state = flag_state(change)
        if isinstance(state, str):
            return flags.ignored(FLAG_UPDATED, state)
        return flags.flag_changes(
            FLAG_UPDATED, [state], mapping, change.changed_by or "flagsmith", actor_kind(change)
        )


def _change(data: Any) -> Change:
    try:
        return msgspec.convert(data, Change)
    except msgspec.ValidationError as error:
        raise Malformed(f"not a Flagsmith flag change: {error}") from None


def flag_state(change: Change) -> FlagState | str:
    """The environment's flag turned on or off, or why the change is none."""
    new, old = change.new_state, change.previous_state
    if new is None:
        return "the flag's state is gone (deleted)"
    if new.identity is not None or new.identity_identifier is not None:
        return f"an override of {new.feature.name} for one identity, not the environment's flag"
    if new.feature_segment is not None:
        return f"an override of {new.feature.name} for a segment, not the environment's flag"
    if old is None:
        return f"{new.feature.name} was created (no previous state)"
    if old.enabled == new.enabled:
        return f"only the value of {new.feature.name} changed"
    environment = new.environment.name if new.environment else None
    turned = "on" if new.enabled else "off"
    said = f"Flagsmith: {new.feature.name} turned {turned} in {environment} at {change.timestamp}"
    return FlagState(
        project=new.feature.project.name if new.feature.project else None,
        environment=environment, flag=new.feature.name, enabled=new.enabled, reason=said,
    )  # fmt: skip


def actor_kind(change: Change) -> ActorKind:
    """A person's email, else the name of the API key that made the change, else Flagsmith."""
    if not change.changed_by:
        return "system"
    return "human" if "@" in change.changed_by else "ci"


RECEIVER = FlagsmithReceiver()
