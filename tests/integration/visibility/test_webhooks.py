"""Webhooks: each matching change POSTed to the receiver, signed, in order, once it answered
2xx; retried with backoff through errors, timeouts and downtime; paused when failing too
long; managed by admins only, never showing a secret twice."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import pytest
from click.testing import CliRunner
from slack_sdk.models.blocks import Block

from ledger.cli.main import cli as ledger_cli
from ledger.http.keys import TOKENS
from ledger.service.tokens import parse_scopes

from .conftest import CI as CI_HEADERS

SECRET = "a-webhook-secret-of-some-length"
FAST = {"backoff": (0.05, 0.2), "timeout": 0.5}


def fast(ledger) -> None:
    """Retries in tenths of seconds instead of seconds."""
    for name, value in FAST.items():
        setattr(ledger.deliverer, name, value)


async def add_webhook(ledger, url: str, **fields: Any) -> dict[str, Any]:
    status, answer = await ledger.request("POST", "/v1/webhooks", {"url": url, **fields})
    assert status == 201, answer
    return answer


async def webhook(ledger, hook_id: str) -> dict[str, Any]:
    status, answer = await ledger.request("GET", "/v1/webhooks")
    assert status == 200, answer
    return next(h for h in answer["webhooks"] if h["id"] == hook_id)


async def until_state(
    ledger, hook_id: str, state: str, position: int = 0, timeout: float = 20
) -> dict[str, Any]:
    """The webhook as listed, once it is in ``state`` (at ``position`` or beyond)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (hook := await webhook(ledger, hook_id))["state"] != state or hook["position"] < position:
        assert loop.time() < deadline, hook
        await asyncio.sleep(0.05)
    return hook


def positions(received: list[tuple[dict[str, str], bytes]]) -> list[int]:
    return [int(headers["X-Ledger-Delivery"]) for headers, _ in received]


async def test_json_deliveries_are_signed_cloudevents_in_order(ledger, receiver) -> None:
    fast(ledger)
    hook = await add_webhook(ledger, receiver.url, format="json", secret=SECRET)
    seeded = await ledger.seed()
    flags = [await ledger.flag(f"f{n}", True) for n in range(5)]
    received = await receiver.until(8)
    assert positions(received) == [*seeded, *flags]
    for headers, body in received:
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Ledger-Signature"] == f"sha256={expected}"
        assert headers["X-Ledger-Webhook"] == hook["id"]
        assert headers["Content-Type"] == "application/cloudevents+json"
        event = json.loads(body)
        assert event["specversion"] == "1.0"
        assert event["ledgerposition"] == int(headers["X-Ledger-Delivery"])
    listed = await until_state(ledger, hook["id"], "active", flags[-1])
    assert listed["position"] == flags[-1] and listed["delivered_at"]


async def test_secrets_are_shown_once_and_never_listed(ledger, receiver) -> None:
    url = receiver.url + "?token=slack-like-secret-path"
    hook = await add_webhook(ledger, url)
    assert len(hook["secret"]) >= 32 and hook["url"] == url
    listed = await webhook(ledger, hook["id"])
    assert "secret" not in listed and "slack-like-secret-path" not in json.dumps(listed)
    assert listed["url"].startswith("http://127.0.0.1:") and listed["state"] == "active"


async def test_a_webhook_gets_the_changes_from_its_creation_on(ledger, receiver) -> None:
    fast(ledger)
    await ledger.seed()
    await add_webhook(ledger, receiver.url)
    later = await ledger.flag("f1", True)
    assert positions(await receiver.until(1)) == [later]


async def test_errors_and_timeouts_are_retried_until_the_receiver_takes_it(
    ledger, receiver
) -> None:
    fast(ledger)
    receiver.answers = [500, 503, 2.0, 502]  # 2 s is past the sender's 0.5 s timeout
    await ledger.create_app()
    hook = await add_webhook(ledger, receiver.url)
    first, second = await ledger.flag("f1", True), await ledger.flag("f2", True)
    assert positions(await receiver.until(2)) == [first, second]
    assert receiver.attempts == 6
    listed = await until_state(ledger, hook["id"], "active", second)
    assert listed["last_error"] is None and listed["failing_since"] is None


async def test_a_receiver_that_was_down_gets_everything_once_back(ledger, receiver) -> None:
    fast(ledger)
    await ledger.create_app()
    hook = await add_webhook(ledger, receiver.url)
    await receiver.stop()
    sent = [await ledger.flag(f"f{n}", n % 2 == 0) for n in range(6)]
    failing = await until_state(ledger, hook["id"], "failing")
    assert failing["last_error"] and failing["position"] < sent[0]
    await receiver.restart()
    assert positions(await receiver.until(6)) == sent
    await asyncio.sleep(0.5)  # nothing more arrives: each change once
    assert positions(receiver.received) == sent


async def test_a_receiver_failing_too_long_is_paused_until_resumed(start, receiver) -> None:
    ledger = await start(webhook_pause_after_seconds=0.5)
    fast(ledger)
    receiver.answers = [500] * 1000
    await ledger.create_app()
    hook = await add_webhook(ledger, receiver.url)
    position = await ledger.flag("f1", True)
    paused = await until_state(ledger, hook["id"], "paused")
    assert paused["last_error"] == "HTTP 500" and paused["paused_at"]
    attempts = receiver.attempts
    await asyncio.sleep(0.5)
    assert receiver.attempts == attempts  # a paused webhook sends nothing
    receiver.answers = []
    status, resumed = await ledger.request("POST", f"/v1/webhooks/{hook['id']}/resume")
    assert status == 200 and resumed["state"] == "active"
    assert positions(await receiver.until(1)) == [position]


async def test_filters_and_failures_only(ledger, receiver) -> None:
    fast(ledger)
    tokens = ledger.server.app[TOKENS]
    root = {
        "Authorization": f"Bearer {await tokens.create('root', 'system', parse_scopes('admin'))}"
    }
    intern = await tokens.create("intern", "human", parse_scopes("flag:write"))
    failures = await add_webhook_as(ledger, root, receiver.url, {"failures_only": True})
    await ledger.write("POST", "/v1/apps", {"name": "shop"}, **root)
    await ledger.write("POST", "/v1/apps/shop/builds", ledger.build_body("b1"), **root)
    staging = "/v1/apps/shop/envs/staging"
    canary = {"build_id": "b1", "strategy": "canary", "steps": [10, 100]}
    await ledger.write("POST", f"{staging}/deploys", canary, **root)
    aborted = await ledger.write(
        "POST", f"{staging}/releases/1/rollout", {"status": "aborted"}, **root
    )
    await ledger.write("POST", f"{staging}/deploys", {"build_id": "b1"}, **root)
    await ledger.write("POST", f"{staging}/deploys", {"build_id": "b1"}, **root)
    rolled = await ledger.write("POST", f"{staging}/rollback", {"reason": "bad"}, **root)
    status, _ = await ledger.request(
        "POST", f"{staging}/deploys", {"build_id": "b1"}, {"Authorization": f"Bearer {intern}"}
    )
    assert status == 403
    received = await receiver.until(3)
    kinds = [json.loads(body)["ledgerkind"] for _, body in received]
    assert kinds == ["rollout", "rollback", "denied"]
    assert positions(received)[:2] == [aborted, rolled]
    assert failures["filter"]["failures_only"] is True


async def add_webhook_as(ledger, headers, url: str, filters: dict[str, Any]) -> dict[str, Any]:
    body = {"url": url, "filter": filters}
    status, answer = await ledger.request("POST", "/v1/webhooks", body, headers)
    assert status == 201, answer
    return answer


async def test_app_env_and_kind_filters(ledger, receiver) -> None:
    fast(ledger)
    await add_webhook(ledger, receiver.url, filter={"env": "prod", "kind": ["flag", "rollback"]})
    await ledger.seed()
    await ledger.flag("f1", True, env="staging")
    wanted = await ledger.flag("f2", True, env="prod")
    await ledger.write("POST", "/v1/apps/shop/envs/prod/deploys", {"build_id": "b1"})
    last = await ledger.flag("f3", False, env="prod")
    assert positions(await receiver.until(2)) == [wanted, last]


async def test_slack_messages_are_block_kit_with_a_diff_link(start, receiver) -> None:
    ledger = await start(public_url="https://ledger.example.com/")
    fast(ledger)
    await add_webhook(ledger, receiver.url, format="slack")
    await ledger.seed()
    staging = "/v1/apps/shop/envs/staging"
    await ledger.write("POST", f"{staging}/deploys", {"build_id": "b1", "description": "again"})
    await ledger.write(
        "POST", f"{staging}/rollback", {"reason": "payment errors"}, **{"X-Ledger-Actor": "alice"}
    )
    received = await receiver.until(5)
    messages = [json.loads(body) for _, body in received]
    for message in messages:
        assert message["text"] and message["blocks"]
        for block in message["blocks"]:
            parsed = Block.parse(block)
            assert parsed is not None, block
            parsed.validate_json()
    second, rollback = messages[3], messages[4]
    link = "https://ledger.example.com/v1/apps/shop/envs/staging/releases/1/diff/2"
    assert link in json.dumps(second["blocks"])
    assert rollback["blocks"][0]["type"] == "header"
    assert rollback["blocks"][0]["text"]["text"].startswith("⏪")
    assert rollback["text"].endswith(": payment errors")


async def test_slack_messages_of_a_change_request_link_its_dashboard_page(start, receiver) -> None:
    ledger = await start(public_url="https://ledger.example.com/")
    fast(ledger)
    await ledger.seed()
    policy = {"reason": "four eyes", "policy": {"approvals": {"required": 1}}}
    await ledger.write("PUT", "/v1/apps/shop/envs/prod/policy", policy)
    await add_webhook(ledger, receiver.url, format="slack", filter={"kind": ["request", "deploy"]})
    status, answer = await ledger.request(
        "POST", "/v1/apps/shop/envs/prod/deploys", {"build_id": "b1"}
    )
    assert status == 202, answer
    request_id = answer["request"]["id"]
    await ledger.write(
        "POST", f"/v1/requests/{request_id}/approve", {}, **{"X-Ledger-Actor": "bob"}
    )
    # requested, approved, the release, released
    messages = [json.loads(body) for _, body in await receiver.until(4)]
    page = f"<https://ledger.example.com/#/requests/{request_id}|request {request_id[:8]}>"
    for message in messages:
        context = message["blocks"][-1]["elements"][0]["text"]
        assert page in context, message
    assert messages[2]["text"].endswith("approved by bob")


async def test_webhooks_are_for_admins(ledger, receiver) -> None:
    tokens = ledger.server.app[TOKENS]
    reader = {
        "Authorization": f"Bearer {await tokens.create('viewer', 'human', parse_scopes('read'))}"
    }
    admin = {
        "Authorization": f"Bearer {await tokens.create('root', 'system', parse_scopes('admin'))}"
    }
    body = {"url": receiver.url}
    assert (await ledger.request("POST", "/v1/webhooks", body, reader))[0] == 403
    assert (await ledger.request("GET", "/v1/webhooks", None, reader))[0] == 403
    status, hook = await ledger.request("POST", "/v1/webhooks", body, admin)
    assert status == 201 and hook["created_by"] == "root"
    assert (await ledger.request("DELETE", f"/v1/webhooks/{hook['id']}", None, reader))[0] == 403
    assert (await ledger.request("DELETE", f"/v1/webhooks/{hook['id']}", None, admin))[0] == 204
    assert (await ledger.request("GET", "/v1/webhooks", None, admin))[1] == {"webhooks": []}
    assert (await ledger.request("DELETE", f"/v1/webhooks/{hook['id']}", None, admin))[0] == 404


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.com/x"},
        {"url": "not a url"},
        {"url": "http://127.0.0.1/x", "format": "xml"},
        {"url": "http://127.0.0.1/x", "secret": "short"},
        {"url": "http://127.0.0.1/x", "filter": {"kind": ["nope"]}},
        {"url": "http://127.0.0.1/x", "filter": {"team": "a"}},
        {"url": "http://127.0.0.1/x", "extra": 1},
    ],
)
async def test_bad_webhooks_are_422(ledger, body: dict[str, Any]) -> None:
    status, problem = await ledger.request("POST", "/v1/webhooks", body)
    assert status == 422, problem
    assert problem["errors"]


async def test_a_deleted_webhook_stops_delivering(ledger, receiver) -> None:
    fast(ledger)
    await ledger.create_app()
    hook = await add_webhook(ledger, receiver.url)
    first = await ledger.flag("f1", True)
    assert positions(await receiver.until(1)) == [first]
    assert (await ledger.request("DELETE", f"/v1/webhooks/{hook['id']}"))[0] == 204
    await ledger.flag("f2", True)
    await asyncio.sleep(1)
    assert positions(receiver.received) == [first]


async def test_an_item_the_receiver_refuses_as_too_large_is_recorded_and_passed_over(
    ledger, receiver, settings
) -> None:
    fast(ledger)
    await ledger.create_app()
    hook = await add_webhook(ledger, receiver.url)
    receiver.answers = [413]
    refused, after = await ledger.flag("f1", True), await ledger.flag("f2", True)
    assert positions(await receiver.until(1)) == [after]
    await until_state(ledger, hook["id"], "active", after)
    status, ready = await ledger.request("GET", "/readyz")
    assert status == 503 and ready["failed"] == {f"webhook {hook['id']}": [refused]}
    assert ledger.deliverer.failed == 1
    env = {"LEDGER_DATA_DIR": str(settings.data_dir), "LEDGER_DATABASE_URL": settings.database_url}
    retry = ["projections", "retry", str(refused)]
    retried = await asyncio.to_thread(CliRunner().invoke, ledger_cli, retry, env=env)
    assert retried.exit_code == 0, retried.output
    assert positions(await receiver.until(2)) == [after, refused]  # late, alone
    status, ready = await ledger.request("GET", "/readyz")
    assert status == 200, ready


async def test_deleting_a_webhook_forgets_what_it_passed_over(ledger, receiver) -> None:
    fast(ledger)
    await ledger.create_app()
    hook = await add_webhook(ledger, receiver.url)
    receiver.answers = [413]
    await ledger.flag("f1", True)
    after = await ledger.flag("f2", True)
    await until_state(ledger, hook["id"], "active", after)
    status, _ = await ledger.request("DELETE", f"/v1/webhooks/{hook['id']}")
    assert status == 204
    status, ready = await ledger.request("GET", "/readyz")
    assert status == 200, ready


TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_a_change_made_in_a_trace_is_delivered_in_it(ledger, receiver) -> None:
    """Both formats send the write's traceparent and tracestate headers; the CloudEvent also
    carries them as its extension attributes. A change made outside a trace sends neither."""
    fast(ledger)
    await ledger.create_app()
    json_hook = await add_webhook(ledger, receiver.url, format="json")
    slack_hook = await add_webhook(ledger, receiver.url, format="slack")
    trace = {"traceparent": TRACEPARENT, "tracestate": "rojo=00f067aa0ba902b7"}
    path = "/v1/apps/shop/envs/prod/flags"
    traced = await ledger.write("PUT", f"{path}/f1", {"enabled": True}, **CI_HEADERS, **trace)
    untraced = await ledger.flag("f2", True)
    received = await receiver.until(4)
    by_hook = {(h["X-Ledger-Webhook"], int(h["X-Ledger-Delivery"])): (h, b) for h, b in received}
    for hook in (json_hook, slack_hook):
        headers, _ = by_hook[(hook["id"], traced)]
        assert (headers["traceparent"], headers["tracestate"]) == (
            TRACEPARENT,
            "rojo=00f067aa0ba902b7",
        )
        headers, body = by_hook[(hook["id"], untraced)]
        assert "traceparent" not in headers and "tracestate" not in headers
        assert b"traceparent" not in body
    event = json.loads(by_hook[(json_hook["id"], traced)][1])
    assert (event["traceparent"], event["tracestate"]) == (TRACEPARENT, "rojo=00f067aa0ba902b7")
