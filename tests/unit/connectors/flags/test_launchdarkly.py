"""LaunchDarkly's webhooks on the examples of LaunchDarkly's API reference (its OpenAPI document):
a flag turned on or off in an environment flips it there, with the percentage its default rule
rolls out; other entries are ignored; the signature is the hex HMAC-SHA256 of the body."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from ledger.connectors.launchdarkly import RECEIVER
from ledger.connectors.models import Mapping
from ledger.connectors.translation import BadSignature, Changes, Skipped
from ledger.domain.commands import SetFlag

from ....flag_payloads import (
    LD_ENV,
    LD_FLAG,
    LD_PROJECT,
    body,
    launchdarkly_flag_entry,
    payload,
    raw,
)
from .conftest import delivery, translated

SITE = "https://app.launchdarkly.com/example-project/production/features/example-flag"


@pytest.mark.parametrize("on", [True, False])
async def test_a_flag_turned_on_or_off_flips_it_with_the_entrys_title_and_link(on: bool) -> None:
    changes = await translated(RECEIVER, body(launchdarkly_flag_entry(on=on)))
    assert isinstance(changes, Changes)
    turned = "on" if on else "off"
    title = f"Ariel Flores turned {turned} the flag Example flag name"
    assert changes.commands == [
        SetFlag(app=LD_PROJECT, env=LD_ENV, flag=LD_FLAG, enabled=on,
                reason=f"LaunchDarkly: {title} (This is an automated test) — {SITE}")
    ]  # fmt: skip
    assert (changes.actor, changes.actor_kind) == ("ariel@acme.com", "human")
    assert changes.event == f"flag: turned {turned} the flag"


@pytest.mark.parametrize(
    ("weights", "percent"),
    [((15000, 85000), 15), ((85000, 15000), 85), ((100000, 0), 100), ((12500, 87500), 12)],
)
async def test_a_percentage_rollout_of_the_default_rule_is_the_share_serving_true(
    weights: tuple[int, int], percent: int
) -> None:
    rollout = [{"variation": i, "weight": w} for i, w in enumerate(weights)]
    changes = await translated(RECEIVER, body(launchdarkly_flag_entry(rollout=rollout)))
    assert isinstance(changes, Changes)
    assert [(c.enabled, c.rollout_percent) for c in changes.commands if isinstance(c, SetFlag)] == [
        (True, percent)
    ]


async def test_without_the_current_version_the_title_verb_says_on_or_off() -> None:
    entry = launchdarkly_flag_entry(on=False)
    del entry["currentVersion"]
    changes = await translated(RECEIVER, body(entry))
    assert isinstance(changes, Changes)
    assert [(c.enabled, c.rollout_percent) for c in changes.commands if isinstance(c, SetFlag)] == [
        (False, None)
    ]


async def test_an_api_token_is_ci_and_an_integration_the_system() -> None:
    entry = launchdarkly_flag_entry()
    token = payload("launchdarkly", "audit-log-entry")["token"]
    del entry["member"]
    changes = await translated(RECEIVER, body(entry | {"token": token}))
    assert isinstance(changes, Changes) and (changes.actor, changes.actor_kind) == (
        "DevOps token",
        "ci",
    )
    changes = await translated(RECEIVER, body(entry | {"app": {"name": "Terraform"}}))
    assert isinstance(changes, Changes) and (changes.actor, changes.actor_kind) == (
        "Terraform",
        "system",
    )


async def test_an_entry_of_another_kind_is_ignored() -> None:
    """The published example as it stands: its kind is the schema's placeholder ``kind``."""
    skipped = await translated(RECEIVER, raw("launchdarkly", "audit-log-entry"))
    assert isinstance(skipped, Skipped) and skipped.outcome == "ignored"
    assert skipped.event == "kind: turned on the flag"
    entry = launchdarkly_flag_entry() | {"kind": "segment"}
    skipped = await translated(RECEIVER, body(entry))
    assert isinstance(skipped, Skipped) and skipped.outcome == "ignored"
    assert skipped.reason == "a segment entry flips no flag"


async def test_a_flag_entry_that_turns_nothing_on_or_off_is_ignored() -> None:
    entry = launchdarkly_flag_entry()
    for access in entry["accesses"]:
        access["action"] = "updateName"
    skipped = await translated(RECEIVER, body(entry))
    assert isinstance(skipped, Skipped) and skipped.outcome == "ignored"
    assert "updateName" in skipped.reason


async def test_project_and_environment_keys_map_through_the_mapping() -> None:
    mapping = Mapping(app="shop", envs={LD_ENV: "prod"})
    changes = await translated(RECEIVER, body(launchdarkly_flag_entry()), mapping)
    assert isinstance(changes, Changes) and (changes.app, changes.env) == ("shop", "prod")
    skipped = await translated(
        RECEIVER, body(launchdarkly_flag_entry()), Mapping(envs={LD_ENV: ""})
    )
    assert isinstance(skipped, Skipped) and skipped.outcome == "unmapped"


def test_the_delivery_id_is_the_entry_id() -> None:
    entry = launchdarkly_flag_entry(entry_id="5e38bf6706121d8aaf15392a")
    assert RECEIVER.delivery_id(delivery(body(entry))) == "5e38bf6706121d8aaf15392a"


def test_the_signature_is_the_hmac_of_the_body(secret: str) -> None:
    sent = raw("launchdarkly", "audit-log-entry")
    signature = hmac.new(secret.encode(), sent, hashlib.sha256).hexdigest()
    RECEIVER.verify(secret, delivery(sent, {"X-LD-Signature": signature}))
    with pytest.raises(BadSignature):
        RECEIVER.verify("another-secret-of-sixteen", delivery(sent, {"X-LD-Signature": signature}))
