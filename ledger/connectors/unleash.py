"""Unleash's Webhook integration: each event of the event log, sent as its JSON (the default
body: leave the body template empty), authenticated by the ``Authorization`` header the
integration sends, which must be the connector's secret.

A feature flag enabled or disabled in an environment flips the ledger's flag; a strategy added
or updated that rolls out gradually (``flexibleRollout``'s ``rollout``, the older
``gradualRollout*``'s ``percentage``) records the flag as on for that percentage, since the
event does not say more. Every other event (a flag created, a segment changed) is ignored.
The delivery id is the event's ``id``."""

from __future__ import annotations

import hmac
from typing import Any

import msgspec
from msgspec import Struct

from ledger.connectors import flags
from ledger.connectors.flags import FlagState
from ledger.connectors.models import Mapping
from ledger.connectors.translation import BadSignature, Changes, Delivery, Lookup, Skipped
from ledger.domain.events import ActorKind, Via

SYSTEM_USER_ID = -1337  # "Unleash System": changes Unleash made itself
ADMIN_TOKEN_USER_ID = -42  # an admin API token: automation
TOGGLES = {"feature-environment-enabled": True, "feature-environment-disabled": False}
STRATEGY_CHANGES = frozenset({"feature-strategy-add", "feature-strategy-update"})
ROLLOUT_PARAMETERS = {
    "flexibleRollout": "rollout",
    "gradualRolloutRandom": "percentage",
    "gradualRolloutUserId": "percentage",
    "gradualRolloutSessionId": "percentage",
}


class Strategy(Struct, frozen=True, kw_only=True):
    name: str = ""
    disabled: bool | None = None
    parameters: dict[str, Any] = {}


class Event(Struct, frozen=True, kw_only=True, rename="camel"):
    """An event of Unleash's event log, as the Webhook integration sends it."""

    id: int
    type: str
    created_by: str = ""
    created_by_user_id: int | None = None
    project: str | None = None
    environment: str | None = None
    feature_name: str | None = None
    data: Any = None


class UnleashReceiver:
    kind: Via = "unleash"
    scopes = flags.SCOPES

    def verify(self, secret: str, delivery: Delivery) -> None:
        sent = delivery.headers.get("authorization")
        if sent is None:
            raise BadSignature("no Authorization header (set it to the connector's secret)")
        token = sent.removeprefix("Bearer ").strip()
        if not hmac.compare_digest(token.encode(), secret.encode()):
            raise BadSignature("the Authorization header is not the connector's secret")

    def delivery_id(self, delivery: Delivery) -> str:
        return str(flags.decoded(delivery, Event, "Unleash").id)

    async def translate(
        self, delivery: Delivery, mapping: Mapping, lookup: Lookup
    ) -> Changes | Skipped:
        event = flags.decoded(delivery, Event, "Unleash")
        state = flag_state(event)
        if isinstance(state, str):
            return flags.ignored(event.type, state)
        return flags.flag_changes(event.type, [state], mapping, event.created_by, actor_kind(event))


def flag_state(event: Event) -> FlagState | str:
    """The flag's state in the event's environment, or why the event says none."""
    if event.feature_name is None:
        return f"{event.type} names no feature flag"
    reason = f"Unleash event {event.id}: {event.type}"
    if event.type in TOGGLES:
        return FlagState(
            project=event.project, environment=event.environment, flag=event.feature_name,
            enabled=TOGGLES[event.type], reason=reason,
        )  # fmt: skip
    if event.type not in STRATEGY_CHANGES:
        return f"{event.type} is no flag change in an environment the ledger records"
    rollout = rollout_of(event.data)
    if rollout is None:
        return f"{event.type}: the strategy rolls out no percentage the ledger records"
    return FlagState(
        project=event.project, environment=event.environment, flag=event.feature_name,
        enabled=True, rollout_percent=rollout, reason=f"{reason} (gradual rollout {rollout}%)",
    )  # fmt: skip


def rollout_of(data: Any) -> int | None:
    """The percentage an enabled gradual rollout strategy serves (None: not one)."""
    try:
        strategy = msgspec.convert(data, Strategy)
    except msgspec.ValidationError:
        return None
    parameter = ROLLOUT_PARAMETERS.get(strategy.name)
    if parameter is None or strategy.disabled:
        return None
    return flags.percent(strategy.parameters.get(parameter))


def actor_kind(event: Event) -> ActorKind:
    if event.created_by_user_id == SYSTEM_USER_ID:
        return "system"
    if event.created_by_user_id == ADMIN_TOKEN_USER_ID:
        return "ci"
    return "human"


RECEIVER = UnleashReceiver()
