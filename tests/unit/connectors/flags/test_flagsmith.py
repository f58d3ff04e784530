"""Flagsmith's webhooks on the payloads of Flagsmith's documentation: an environment's flag
turned on or off flips it; overrides, creations, value changes and other events are ignored;
the signature is the hex HMAC-SHA256 of the body."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from ledger.connectors.flagsmith import RECEIVER
from ledger.connectors.models import Mapping
from ledger.connectors.translation import BadSignature, Changes, Malformed, Skipped
from ledger.domain.commands import SetFlag

from ....flag_payloads import body, flagsmith_audit_log_entry, payload, raw
from .conftest import delivery, translated

MAPPING = Mapping(apps={"Flagsmith Website": "website"})
"""The documentation's project name has a space and capitals: an app name must be renamed."""


def flag_updated(**changed: Any) -> dict[str, Any]:
    """The documentation's FLAG_UPDATED, its new state changed as given."""
    webhook = payload("flagsmith", "flag-updated")
    webhook["data"]["new_state"] |= changed
    return webhook


async def test_an_environments_flag_turned_on_flips_it_with_who_changed_it() -> None:
    changes = await translated(RECEIVER, raw("flagsmith", "flag-updated"), MAPPING)
    assert isinstance(changes, Changes)
    said = "Flagsmith: butter_bar turned on in Development at 2021-06-18T07:50:26.595298Z"
    assert changes.commands == [
        SetFlag(app="website", env="development", flag="butter_bar", enabled=True, reason=said)
    ]
    assert (changes.actor, changes.actor_kind, changes.event) == (
        "user@domain.com",
        "human",
        "FLAG_UPDATED",
    )


async def test_an_environments_flag_turned_off_flips_it_off() -> None:
    webhook = payload("flagsmith", "flag-updated")
    data = webhook["data"]
    data["new_state"], data["previous_state"] = data["previous_state"], data["new_state"]
    changes = await translated(RECEIVER, body(webhook), MAPPING)
    assert isinstance(changes, Changes)
    assert [c.enabled for c in changes.commands if isinstance(c, SetFlag)] == [False]


async def test_a_change_by_an_api_key_is_ci_and_one_by_nobody_is_the_system() -> None:
    for changed_by, actor, kind in (("terraform", "terraform", "ci"), ("", "flagsmith", "system")):
        webhook = payload("flagsmith", "flag-updated")
        webhook["data"]["changed_by"] = changed_by
        changes = await translated(RECEIVER, body(webhook), MAPPING)
        assert isinstance(changes, Changes) and (changes.actor, changes.actor_kind) == (actor, kind)


@pytest.mark.parametrize(
    ("webhook", "why"),
    [
        (flag_updated(identity=1, identity_identifier="test_identity"), "one identity"),
        (flag_updated(feature_segment={"segment": {"id": 1, "name": "beta"}}), "a segment"),
        (flag_updated(enabled=False), "only the value"),
        (flagsmith_audit_log_entry(), "AUDIT_LOG_CREATED flips no flag"),
    ],
    ids=["identity override", "segment override", "value alone", "audit log"],
)
async def test_what_is_not_the_environments_flag_turning_is_ignored(
    webhook: dict[str, Any], why: str
) -> None:
    skipped = await translated(RECEIVER, body(webhook), MAPPING)
    assert isinstance(skipped, Skipped) and skipped.outcome == "ignored"
    assert why in skipped.reason


async def test_a_flag_created_has_no_previous_state_and_is_ignored() -> None:
    webhook = payload("flagsmith", "flag-updated")
    del webhook["data"]["previous_state"]
    skipped = await translated(RECEIVER, body(webhook), MAPPING)
    assert isinstance(skipped, Skipped) and "created" in skipped.reason


async def test_a_project_name_that_is_no_app_name_is_unmapped_unless_renamed() -> None:
    skipped = await translated(RECEIVER, raw("flagsmith", "flag-updated"))
    assert isinstance(skipped, Skipped) and skipped.outcome == "unmapped"
    assert (skipped.app, skipped.env) == ("Flagsmith Website", "Development")
    assert "'Flagsmith Website'" in skipped.reason


def test_the_delivery_id_is_the_bodys_digest_so_a_retry_has_the_same() -> None:
    sent = raw("flagsmith", "flag-updated")
    assert RECEIVER.delivery_id(delivery(sent)) == hashlib.sha256(sent).hexdigest()
    assert RECEIVER.delivery_id(delivery(sent)) != RECEIVER.delivery_id(delivery(sent + b" "))


async def test_a_body_that_is_no_webhook_is_malformed() -> None:
    with pytest.raises(Malformed):
        await translated(RECEIVER, b'{"event_type": "FLAG_UPDATED", "data": {"new_state": 1}}')


def test_the_signature_is_the_hmac_of_the_body(secret: str) -> None:
    sent = raw("flagsmith", "flag-updated")
    signature = hmac.new(secret.encode(), sent, hashlib.sha256).hexdigest()
    RECEIVER.verify(secret, delivery(sent, {"X-Flagsmith-Signature": signature}))
    with pytest.raises(BadSignature):
        RECEIVER.verify(secret, delivery(sent + b"\n", {"X-Flagsmith-Signature": signature}))
    with pytest.raises(BadSignature):
        RECEIVER.verify(secret, delivery(sent))
