"""Subscribers get the gates as they happen: policy changes (the every-app policy on the ``_``
app token, since ``*`` is NATS's wildcard), each step of a change request, and evidence; and a
requested config change never carries a secret value to them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from aiohttp.test_utils import TestClient, TestServer
from cloudevents.v1.http import from_json

from ledger.http.server import create_app
from ledger.settings import Settings

from .test_published_messages import _messages

SECRET = "pl4nted-s3cret-value"
CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
ALICE = {"X-Ledger-Actor": "alice"}


async def _story(client: TestClient[Any, Any]) -> int:
    async def send(path: str, body: dict[str, Any], headers: Any, method: str = "POST") -> Any:
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status in (201, 202), await response.text()
        return await response.json()

    await send("/v1/apps", {"name": "shop"}, CI)
    build = {"build_id": "b1", "commit": "abc1def", "artifact": {"digest": "sha256:" + "1" * 64}}
    await send("/v1/apps/shop/builds", build | {"status": "succeeded"}, CI)
    await send("/v1/apps/shop/builds/b1/evidence", {"type": "tests", "status": "passed"}, CI)
    two_eyes = {"reason": "four eyes", "policy": {"approvals": {"required": 1}}}
    await send("/v1/apps/*/envs/prod/policy", two_eyes, ALICE, "PUT")
    asked = await send(
        "/v1/apps/shop/envs/prod/config", {"set": {"DB_PASSWORD": SECRET, "MODE": "fast"}}, CI
    )
    done = await send(f"/v1/requests/{asked['request']['id']}/approve", {}, ALICE)
    return int(done["position"])


async def _published(tmp_path: Path, nats_url: str) -> list[Any]:
    settings = Settings(data_dir=tmp_path / "ledger", nats_url=nats_url)
    async with TestClient(TestServer(create_app(settings))) as client:
        head = await _story(client)
        for _ in range(200):
            ready = await (await client.get("/readyz")).json()
            if ready["nats"]["position"] >= head:
                break
    return await _messages(nats_url, "ledger.events.>")


async def test_gate_events_reach_subscribers_on_their_subjects(
    tmp_path: Path, own_nats: Any
) -> None:
    events = await _published(tmp_path, own_nats.url)
    seen = [(m.subject, from_json(m.data)["type"]) for m in events]
    assert ("ledger.events.shop._.evidence", "dev.cdeventsx.ledger-evidence.recorded.0.1.0") in seen
    assert ("ledger.events._.prod.policy", "dev.cdeventsx.ledger-policy.changed.0.1.0") in seen
    steps = [t for s, t in seen if s == "ledger.events.shop.prod.request"]
    assert steps == [
        "dev.cdeventsx.ledger-request.created.0.1.0",
        "dev.cdeventsx.ledger-request.approved.0.1.0",
        "dev.cdeventsx.ledger-request.released.0.1.0",
    ]
    assert ("ledger.events.shop.prod.config", "dev.cdevents.environment.modified.0.3.0") in seen
    for message in events:
        assert SECRET.encode() not in message.data
    requested = next(m for m in events if m.subject.endswith(".request"))
    command = msgspec.json.decode(requested.data)["data"]["customData"]
    assert b"fast" in requested.data, command  # a value that is no secret is shown
