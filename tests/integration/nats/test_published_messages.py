"""What subscribers get: CloudEvents 1.0 that the official SDK parses, CDEvents data valid
against the CDEvents v0.5.1 schemas, the feed's summaries, and never a secret value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import nats
import pytest
from aiohttp.test_utils import TestClient, TestServer
from cloudevents.v1.http import from_json

from ledger.http.server import create_app
from ledger.settings import Settings

from ...cdevents import validator

SECRET = "pl4nted-s3cret-value"
CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}


async def _story(client: TestClient[Any, Any]) -> int:
    async def post(path: str, body: dict[str, Any], method: str = "POST") -> dict[str, Any]:
        response = await client.request(method, path, json=body, headers=CI)
        assert response.status == 201, await response.text()
        result: dict[str, Any] = await response.json()
        return result

    env = "/v1/apps/shop/envs/prod"
    await post("/v1/apps", {"name": "shop"})
    for n in (1, 2):
        await post(
            "/v1/apps/shop/builds",
            {
                "build_id": f"b{n}",
                "commit": f"abc{n}def",
                "artifact": {"digest": f"sha256:{n:064x}"},
                "status": "succeeded",
            },
        )
    await post(f"{env}/config", {"set": {"DB_PASSWORD": SECRET, "API": "x"}, "secret": ["API"]})
    await post(f"{env}/deploys", {"build_id": "b1"})
    await post(f"{env}/deploys", {"build_id": "b2", "strategy": "canary", "steps": [10, 100]})
    await post(f"{env}/releases/3/rollout", {"status": "completed"})
    await post(f"{env}/flags/new-checkout", {"enabled": True}, "PUT")
    await post(
        f"{env}/migrations", {"migration_id": "m1", "schema_version": "2", "reversible": True}
    )
    await post(f"{env}/config", {"set": {"DB_PASSWORD": SECRET + "-2"}})
    await post(f"{env}/rollback", {"to_version": 2, "reason": "errors"})
    unrecorded = {"id": "shop-7d9c-abc", "artifact_digest": "sha256:" + "e" * 64}
    last = await post(f"{env}/runtime", {"reporter": "k8s:prod-eu", "instances": [unrecorded]})
    return int(last["position"])


async def _messages(url: str, subjects: str) -> list[Any]:
    nc = await nats.connect(url)
    sub = await nc.jetstream().subscribe(subjects, ordered_consumer=True)
    out = []
    while True:
        try:
            out.append(await sub.next_msg(timeout=1))
        except nats.errors.TimeoutError:
            break
    await nc.close()
    return out


@pytest.fixture
async def published(tmp_path: Path, own_nats: Any) -> tuple[list[Any], list[Any], list[Any]]:
    settings = Settings(data_dir=tmp_path / "ledger", nats_url=own_nats.url)
    async with TestClient(TestServer(create_app(settings))) as client:
        head = await _story(client)
        for _ in range(200):
            ready = await (await client.get("/readyz")).json()
            if ready["nats"]["position"] >= head:
                break
            await client.get("/readyz")
        over_http = await (await client.get("/v1/events?after=0&limit=1000")).json()
    events = await _messages(own_nats.url, "ledger.events.>")
    feed = await _messages(own_nats.url, "ledger.feed.>")
    return events, feed, over_http


async def test_every_message_is_a_cloudevent_the_sdk_parses(published: Any) -> None:
    events, _, _ = published
    assert len(events) == 13
    for msg in events:
        event = from_json(msg.data)
        assert event["id"] == msg.headers["Nats-Msg-Id"]
        assert event["specversion"] == "1.0"
        assert msg.headers["Content-Type"] == "application/cloudevents+json"
        assert msg.subject.startswith(
            f"ledger.events.shop.{event['subject'].partition('/')[2] or '_'}."
        )
        assert event["ledgerkind"] == msg.subject.rsplit(".", 1)[1]


async def test_cdevents_typed_messages_validate_against_their_schemas(published: Any) -> None:
    events, _, _ = published
    types = []
    for msg in events:
        body = msgspec.json.decode(msg.data)
        types.append(body["type"])
        if body["type"].startswith("dev.cdevents."):
            validator(body["type"]).validate(body["data"])
            assert body["data"]["context"]["type"] == body["type"]
    assert "dev.cdevents.build.finished.0.3.0" in types
    assert "dev.cdevents.service.deployed.0.3.0" in types
    assert "dev.cdevents.service.upgraded.0.3.0" in types
    assert "dev.cdevents.service.rolledback.0.3.0" in types
    assert "dev.cdevents.environment.modified.0.3.0" in types
    assert "dev.cdeventsx.ledger-flag.changed.0.1.0" in types
    assert types[-2:] == [
        "dev.cdeventsx.ledger-runtime.observed.0.1.0",
        "dev.cdeventsx.ledger-runtime.drift-detected.0.1.0",
    ]


async def test_the_feed_carries_the_history_summaries(published: Any) -> None:
    _, feed, _ = published
    summaries = [msgspec.json.decode(m.data)["summary"] for m in feed]
    assert len(summaries) == 13
    assert any("rolled back shop prod to v2" in s for s in summaries)
    assert summaries[-1].startswith("drift detected: shop in prod runs an unrecorded artifact")
    assert all(m.subject in ("ledger.feed.shop._", "ledger.feed.shop.prod") for m in feed)


async def test_http_serves_the_same_cloudevents(published: Any) -> None:
    events, _, over_http = published
    assert [e["id"] for e in over_http] == [m.headers["Nats-Msg-Id"] for m in events]


async def test_no_secret_value_reaches_a_subscriber(published: Any) -> None:
    events, feed, over_http = published
    for msg in events + feed:
        assert SECRET.encode() not in msg.data
        assert b'"x"' not in msg.data  # the declared secret API=x
    assert SECRET not in json.dumps(over_http)
