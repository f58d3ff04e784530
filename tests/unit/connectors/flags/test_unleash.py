"""Unleash's Webhook integration on the events of Unleash's own documentation: a flag enabled
or disabled in an environment flips it, a gradual rollout strategy records its percentage,
everything else is ignored; the Authorization header must be the connector's secret."""

from __future__ import annotations

import pytest

from ledger.connectors.models import Mapping
from ledger.connectors.translation import BadSignature, Changes, Malformed, Skipped
from ledger.connectors.unleash import RECEIVER
from ledger.domain.commands import SetFlag

from ....flag_payloads import body, payload, raw
from .conftest import delivery, translated


@pytest.mark.parametrize(
    ("event", "enabled"),
    [("feature-environment-enabled", True), ("feature-environment-disabled", False)],
)
async def test_a_flag_enabled_or_disabled_in_an_environment_flips_it(
    event: str, enabled: bool
) -> None:
    changes = await translated(RECEIVER, raw("unleash", event))
    assert isinstance(changes, Changes)
    assert changes.commands == [
        SetFlag(app="my-other-project", env="development", flag="new-feature", enabled=enabled,
                reason=f"Unleash event {payload('unleash', event)['id']}: {event}")
    ]  # fmt: skip
    assert (changes.actor, changes.actor_kind) == ("user@company.com", "human")
    assert (changes.app, changes.env, changes.event) == ("my-other-project", "development", event)


@pytest.mark.parametrize(
    ("event", "percent"), [("feature-strategy-add", 67), ("feature-strategy-update", 32)]
)
async def test_a_gradual_rollout_strategy_records_the_flag_on_for_its_percentage(
    event: str, percent: int
) -> None:
    changes = await translated(RECEIVER, raw("unleash", event))
    assert isinstance(changes, Changes)
    [command] = changes.commands
    assert isinstance(command, SetFlag)
    assert (command.flag, command.enabled, command.rollout_percent) == (
        "new-feature",
        True,
        percent,
    )
    assert command.reason is not None and f"gradual rollout {percent}%" in command.reason


@pytest.mark.parametrize(
    "event",
    ["feature-created", "segment-created", "feature-strategy-remove", "webhook-body"],
)
async def test_events_that_flip_no_flag_are_ignored_with_the_reason(event: str) -> None:
    skipped = await translated(RECEIVER, raw("unleash", event))
    assert isinstance(skipped, Skipped) and skipped.outcome == "ignored"
    assert skipped.event == payload("unleash", event)["type"] and skipped.reason


async def test_a_strategy_that_rolls_out_no_percentage_is_ignored() -> None:
    update = payload("unleash", "feature-strategy-update")
    update["data"]["name"] = "default"
    skipped = await translated(RECEIVER, body(update))
    assert isinstance(skipped, Skipped) and skipped.outcome == "ignored"
    assert "no percentage" in skipped.reason


async def test_project_and_environment_map_through_the_connector_mapping() -> None:
    mapping = Mapping(apps={"my-other-project": "shop"}, env="staging")
    changes = await translated(RECEIVER, raw("unleash", "feature-environment-enabled"), mapping)
    assert isinstance(changes, Changes) and (changes.app, changes.env) == ("shop", "staging")


@pytest.mark.parametrize(
    "mapping",
    [Mapping(apps={"my-other-project": ""}), Mapping(envs={"development": ""})],
)
async def test_a_name_unmapped_on_purpose_leaves_the_delivery_unmapped(mapping: Mapping) -> None:
    skipped = await translated(RECEIVER, raw("unleash", "feature-environment-enabled"), mapping)
    assert isinstance(skipped, Skipped) and skipped.outcome == "unmapped"
    assert (skipped.app, skipped.env) == ("my-other-project", "development")


async def test_a_flag_name_the_ledger_cannot_keep_is_unmapped() -> None:
    event = payload("unleash", "feature-environment-enabled") | {"featureName": "new feature!"}
    skipped = await translated(RECEIVER, body(event))
    assert isinstance(skipped, Skipped) and skipped.outcome == "unmapped"
    assert "'new feature!'" in skipped.reason


async def test_changes_unleash_made_itself_are_the_system_and_an_admin_token_is_ci() -> None:
    event = payload("unleash", "feature-environment-enabled")
    for user_id, kind in ((-1337, "system"), (-42, "ci"), (110, "human")):
        changes = await translated(RECEIVER, body(event | {"createdByUserId": user_id}))
        assert isinstance(changes, Changes) and changes.actor_kind == kind


def test_the_delivery_id_is_the_event_id() -> None:
    assert RECEIVER.delivery_id(delivery(raw("unleash", "feature-environment-enabled"))) == "930"


def test_a_body_template_that_is_not_the_event_is_malformed() -> None:
    with pytest.raises(Malformed):
        RECEIVER.delivery_id(delivery(b"feature-created on toggle some-toggle"))


@pytest.mark.parametrize(
    "sent", ["a-secret-of-sixteen-or-more", "Bearer a-secret-of-sixteen-or-more"]
)
def test_the_authorization_header_is_the_secret(secret: str, sent: str) -> None:
    RECEIVER.verify(secret, delivery(b"{}", {"Authorization": sent}))


@pytest.mark.parametrize("headers", [{}, {"Authorization": "API KEY 123abc"}])
def test_another_or_no_authorization_is_refused(secret: str, headers: dict[str, str]) -> None:
    with pytest.raises(BadSignature):
        RECEIVER.verify(secret, delivery(b"{}", headers))
