"""What a webhook sends: Slack Block Kit that Slack's own models accept, failures that stand
out, a link to the release diff, a signature anyone can check, and the right filters."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from slack_sdk.models.blocks import Block

from ledger.webhooks.models import WebhookFilter, is_failure
from ledger.webhooks.payloads import diff_url, request_url, signature, slack_message
from ledger.wire.shapes import HistoryItem

BASE = "https://ledger.example.com"


def item(kind: str, summary: str, env: str | None = "prod", **data: Any) -> HistoryItem:
    return HistoryItem(
        position=42,
        event_id=uuid4(),
        app="shop",
        env=env,
        kind=kind,
        actor="alice",
        actor_kind="human",
        via="http",
        summary=summary,
        reason=data.pop("reason", None),
        recorded_at=datetime(2025, 3, 4, 14, 3, tzinfo=UTC),
        data=data,
    )


RELEASE = {"version": 42, "build_id": "b42", "commit": "a1b2c3d4e5f6", "rollback_of": None}
ITEMS = [
    item("app", "alice created app shop", env=None),
    item("build", "ci-bot recorded build b1 of shop (a1b2c3d, succeeded)", env=None),
    item("config", "1 config key changed in shop prod (v42): +A", release=RELEASE),
    item("flag", "bob turned flag new-checkout on for 25% in shop prod", flag="new-checkout"),
    item("deploy", 'ci-bot deployed shop v42 (a1b2c3d "fix <b>") to prod', release=RELEASE),
    item("rollout", "ci-bot aborted the rollout of shop prod v42", status="aborted", version=42),
    item("migration", "ci-bot applied migration m7 to shop prod (schema 7, reversible)"),
    item(
        "rollback",
        "alice rolled back shop prod to v40 (as v43): payment errors",
        release=RELEASE | {"version": 43, "rollback_of": 40},
        reason="payment errors",
    ),
    item("promote", "ci-bot promoted shop v42 (a1b2c3d) from staging to prod", release=RELEASE),
    item("denied", "bob was denied deploy in shop prod: prod is protected"),
]
REQUEST_ID = "0b7e3f52-9c1d-4e8a-a6f0-5d2c1b9e8f70"
REQUESTED = item(
    "request",
    f"ci-bot requested a deploy build b42 of shop to prod — waits for 1 approval "
    f"(request {REQUEST_ID[:8]})",
    request_id=REQUEST_ID,
    command={"op": "deploy", "app": "shop", "env": "prod", "build_id": "b42"},
    required=1,
    build_id="b42",
)
APPROVED = item(
    "request",
    f"bob approved request {REQUEST_ID[:8]} in shop prod",
    request_id=REQUEST_ID,
    approvals=1,
)
RELEASED_BY_REQUEST = item(
    "deploy",
    "ci-bot deployed shop v42 (a1b2c3d) to prod — approved by bob",
    release=RELEASE,
    gates={"policy": "shop/prod v1", "request_id": REQUEST_ID, "approved_by": ["bob"]},
)
ITEMS += [REQUESTED, APPROVED, RELEASED_BY_REQUEST]


@pytest.mark.parametrize("change", ITEMS, ids=[i.kind for i in ITEMS])
def test_every_message_is_valid_block_kit(change: HistoryItem) -> None:
    message = slack_message(change, BASE)
    assert message["text"] == change.summary
    for block in message["blocks"]:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()
        assert parsed.to_dict() == block


def test_failures_get_a_header_and_bold_summary_others_an_emoji() -> None:
    rollback = slack_message(ITEMS[7], BASE)
    assert rollback["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "⏪ Rollback in shop prod"},
    }
    assert rollback["blocks"][1]["text"]["text"].startswith("*alice rolled back")
    aborted = slack_message(ITEMS[5], BASE)
    assert aborted["blocks"][0]["text"]["text"] == "🚨 Rollout aborted in shop prod"
    deploy = slack_message(ITEMS[4], BASE)
    assert deploy["blocks"][0]["type"] == "section"
    assert deploy["blocks"][0]["text"]["text"].startswith("🚀 ci-bot deployed shop v42")


def test_a_deploy_says_who_where_which_release_and_commit_and_links_the_diff() -> None:
    message = slack_message(ITEMS[4], BASE)
    fields = [f["text"] for f in message["blocks"][1]["fields"]]
    assert fields == [
        "*Who*\nalice (human)",
        "*Where*\nshop / prod",
        "*Release*\nv42",
        "*Build*\nb42",
        "*Commit*\n`a1b2c3d`",
    ]
    context = message["blocks"][-1]["elements"][0]["text"]
    assert context.startswith(f"<{BASE}/v1/apps/shop/envs/prod/releases/41/diff/42|diff v41 → v42>")


def test_mrkdwn_control_characters_are_escaped() -> None:
    text = slack_message(ITEMS[4], BASE)["blocks"][0]["text"]["text"]
    assert "&lt;b&gt;" in text and "<b>" not in text


def test_the_first_release_and_app_level_changes_have_no_diff_link() -> None:
    first = item("deploy", "x", release=RELEASE | {"version": 1})
    assert diff_url(first, BASE) is None
    assert diff_url(ITEMS[0], BASE) is None


def test_the_signature_is_hmac_sha256_of_the_body() -> None:
    body = b'{"a": 1}'
    expected = hmac.new(b"k" * 16, body, hashlib.sha256).hexdigest()
    assert signature("k" * 16, body) == f"sha256={expected}"


def test_failures_are_rollbacks_aborted_or_failed_rollouts_and_denials() -> None:
    failing = [i.kind for i in ITEMS if is_failure(i)]
    assert failing == ["rollout", "rollback", "denied"]
    completed = item("rollout", "completed", status="succeeded")
    assert not is_failure(completed)


def test_a_filter_matches_every_given_condition() -> None:
    deploy = ITEMS[4]
    assert WebhookFilter().matches(deploy)
    assert WebhookFilter(app="shop", env="prod", kind=["deploy", "rollback"]).matches(deploy)
    assert not WebhookFilter(env="staging").matches(deploy)
    assert not WebhookFilter(kind=["flag"]).matches(deploy)
    assert not WebhookFilter(failures_only=True).matches(deploy)
    assert WebhookFilter(failures_only=True, kind=["rollback"]).matches(ITEMS[7])


def context_of(message: dict[str, Any]) -> str:
    text: str = message["blocks"][-1]["elements"][0]["text"]
    return text


def test_a_change_request_links_its_page_on_the_dashboard() -> None:
    page = f"{BASE}/#/requests/{REQUEST_ID}"
    for step in (REQUESTED, APPROVED):
        assert request_url(step, BASE) == page
        assert context_of(slack_message(step, BASE)).startswith(f"<{page}|request 0b7e3f52>")
    assert slack_message(REQUESTED, BASE)["blocks"][0]["text"]["text"].startswith("🙋 ci-bot")


def test_a_release_made_through_a_request_links_its_diff_and_its_request() -> None:
    context = context_of(slack_message(RELEASED_BY_REQUEST, BASE))
    assert context.startswith(
        f"<{BASE}/v1/apps/shop/envs/prod/releases/41/diff/42|diff v41 → v42> · "
        f"<{BASE}/#/requests/{REQUEST_ID}|request 0b7e3f52> · deploy · position 42"
    )


def test_changes_of_no_request_link_none() -> None:
    assert [i.kind for i in ITEMS if request_url(i, BASE)] == ["request", "request", "deploy"]
