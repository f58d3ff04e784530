"""POST /v1/events:batch answers each item on its own and appends only the accepted ones."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ledger.http.server import create_app
from ledger.settings import Settings

BUILD = {
    "op": "record_build",
    "app": "shop",
    "build_id": "b1",
    "commit": "abc1234",
    "artifact": {"digest": "sha256:aa"},
    "status": "succeeded",
}


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


async def _history(client: TestClient[Any, Any], head: int) -> list[dict[str, Any]]:
    page = await (await client.get(f"/v1/history?limit=500&min_position={head}")).json()
    items: list[dict[str, Any]] = page["items"]
    return items


async def test_a_batch_applies_the_good_items_and_refuses_the_bad_each_on_its_own(
    client: TestClient[Any, Any],
) -> None:
    flips = [
        {"op": "set_flag", "app": "shop", "env": "prod", "flag": f"f{n}", "enabled": True}
        for n in range(300)
    ]
    items = [
        {"op": "create_app", "app": "shop"},
        BUILD,
        *flips,
        {"op": "deploy", "app": "shop", "env": "prod", "build_id": "missing"},
        {"op": "no-such-op"},
        {"op": "deploy", "app": "Shop!", "env": "prod", "build_id": "b1"},
        {"op": "deploy", "app": "shop", "env": "prod", "build_id": "b1"},
    ]
    answer = await (await client.post("/v1/events:batch", json=items)).json()
    statuses = [r["status"] for r in answer["results"]]
    assert statuses == [201] * 302 + [404, 422, 422, 201]
    assert answer["results"][-3]["problem"]["errors"][0]["field"] == "op"
    assert answer["results"][-2]["problem"]["errors"][0]["field"] == "app"
    positions = [r["result"]["position"] for r in answer["results"] if r["status"] == 201]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert len(await _history(client, positions[-1])) == 303


BAD_ITEMS = [
    ({"op": "no-such-op"}, "op", "Invalid enum value 'no-such-op' - at `$.op`"),
    ({"app": "shop"}, "op", "Object missing required field `op`"),
    ({"op": 3}, "op", "Expected `str`, got `int` - at `$.op`"),
    (
        {"app": "Shop!", "op": "create_app", "idempotency_key": 5},
        "idempotency_key",
        "Expected `str | null`, got `int` - at `$.idempotency_key`",
    ),
    (
        {"op": "deploy", "app": "shop", "env": "prod"},
        "build_id",
        "Object missing required field `build_id`",
    ),
    ({"op": "create_app", "app": "shop", "env": "x"}, "env", "Object contains unknown field `env`"),
    (["create_app"], "item", "each item is a JSON object with an op"),
]


@pytest.mark.parametrize(("item", "field", "detail"), BAD_ITEMS)
async def test_a_bad_item_is_answered_with_the_field_at_fault(
    client: TestClient[Any, Any], item: Any, field: str, detail: str
) -> None:
    answer = await (await client.post("/v1/events:batch", json=[item])).json()
    problem = answer["results"][0]["problem"]
    assert (problem["status"], problem["detail"]) == (422, detail)
    assert problem["errors"] == [{"field": field, "message": detail}]


async def test_ndjson_and_idempotency_keys_per_item(client: TestClient[Any, Any]) -> None:
    lines = [
        {"op": "create_app", "app": "shop"},
        BUILD,
        {
            "op": "deploy",
            "app": "shop",
            "env": "prod",
            "build_id": "b1",
            "idempotency_key": "deploy-1",
        },
    ]
    body = "\n".join(json.dumps(line) for line in lines)
    headers = {"Content-Type": "application/x-ndjson"}
    first = await (await client.post("/v1/events:batch", data=body, headers=headers)).json()
    again = await client.post("/v1/events:batch", data=json.dumps(lines[2:]))
    replay = (await again.json())["results"][0]
    assert replay["result"]["replayed"] is True
    assert replay["result"]["position"] == first["results"][2]["result"]["position"]
    assert len(await _history(client, first["results"][2]["result"]["position"])) == 3


async def test_bad_batches_are_refused_whole(client: TestClient[Any, Any]) -> None:
    assert (await client.post("/v1/events:batch", data="{not json")).status == 400
    assert (await client.post("/v1/events:batch", json={"op": "create_app"})).status == 422
    huge = io.BytesIO(b"x" * (17 * 1024 * 1024))
    assert (await client.post("/v1/events:batch", data=huge)).status == 413
