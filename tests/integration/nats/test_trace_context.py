"""A write's W3C trace context reaches every subscriber: each event it appends keeps it, the
CloudEvents on NATS and GET /v1/events carry it as the distributed tracing extension, and the
NATS messages as the ``traceparent`` header. A write without one (or with an invalid one)
publishes exactly what it did before, and the hash chain verifies either way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cloudevents.v1.http import from_json

from ledger.http.server import create_app
from ledger.settings import Settings

from ... import cdevents
from .test_published_messages import _messages

CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
PIPELINE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
DEPLOY = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
BATCH = "00-5bf92f3577b34da6a3ce929d0e0e4736-10f067aa0ba902b7-00"
ARGO_STARTED = "00-6bf92f3577b34da6a3ce929d0e0e4736-20f067aa0ba902b7-01"
ARGO_HOP = "00-7bf92f3577b34da6a3ce929d0e0e4736-30f067aa0ba902b7-01"
INVALID = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"
BUILD = {
    "build_id": "b1",
    "commit": "abc1234",
    "artifact": {"digest": "sha256:" + "1" * 64},
    "status": "succeeded",
}


async def _story(client: TestClient[Any, Any]) -> dict[str, int]:
    """Writes in a trace and out of one; the position each one reached."""

    async def post(path: str, body: Any, method: str = "POST", **headers: str) -> int:
        response = await client.request(method, path, json=body, headers=CI | headers)
        assert response.status in (200, 201), await response.text()
        answer = await response.json()
        last = answer["results"][-1]["result"] if "results" in answer else answer
        return int(last["position"])

    env = "/v1/apps/shop/envs/prod"
    traced = {"traceparent": PIPELINE, "tracestate": "congo=t61rcWkgMzE"}
    positions = {"app": await post("/v1/apps", {"name": "shop"}, **traced)}
    positions["build"] = await post("/v1/apps/shop/builds", BUILD)
    positions["deploy"] = await post(f"{env}/deploys", {"build_id": "b1"}, traceparent=DEPLOY)
    flag = {"enabled": True}
    positions["invalid"] = await post(f"{env}/flags/f1", flag, "PUT", traceparent=INVALID)
    item = {"op": "set_flag", "app": "shop", "env": "prod", "flag": "f2", "enabled": True}
    positions["batch"] = await post("/v1/events:batch", [item], traceparent=BATCH)
    positions["cdevent"] = await _cdevent(client)
    return positions


async def _cdevent(client: TestClient[Any, Any]) -> int:
    """A deploy from Argo CD whose CloudEvent names the trace it started in; the HTTP request
    itself is one hop of it."""
    event = cdevents.fixture("service_deployed")
    attributes = {k: event["context"][k] for k in ("id", "source", "type")}
    envelope = {"specversion": "1.0", **attributes, "traceparent": ARGO_STARTED, "data": event}
    response = await client.post(
        "/v1/cdevents",
        data=json.dumps(envelope),
        headers={"Content-Type": "application/cloudevents+json", "traceparent": ARGO_HOP},
    )
    assert response.status == 201, await response.text()
    return int((await response.json())["position"])


@pytest.fixture
async def published(tmp_path: Path, own_nats: Any) -> dict[str, Any]:
    settings = Settings(data_dir=tmp_path / "ledger", nats_url=own_nats.url)
    async with TestClient(TestServer(create_app(settings))) as client:
        positions = await _story(client)
        head = max(positions.values())
        for _ in range(200):
            ready = await (await client.get("/readyz")).json()
            if ready["nats"]["position"] >= head:
                break
        over_http = await (await client.get("/v1/events?after=0&limit=1000")).json()
        verified = await (await client.get("/v1/verify")).json()
    return {
        "positions": positions,
        "events": await _messages(own_nats.url, "ledger.events.>"),
        "feed": await _messages(own_nats.url, "ledger.feed.>"),
        "over_http": over_http,
        "verified": verified,
    }


def _by_position(cloudevents: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {e["ledgerposition"]: e for e in cloudevents}


async def test_each_event_of_a_traced_write_carries_its_trace(published: Any) -> None:
    positions, over_http = published["positions"], _by_position(published["over_http"])
    app = over_http[positions["app"]]
    assert (app["traceparent"], app["tracestate"]) == (PIPELINE, "congo=t61rcWkgMzE")
    assert over_http[positions["deploy"]]["traceparent"] == DEPLOY
    assert over_http[positions["batch"]]["traceparent"] == BATCH
    assert "tracestate" not in over_http[positions["deploy"]]


async def test_a_cloudevents_own_trace_is_the_one_its_events_keep(published: Any) -> None:
    """Argo CD's event creates the app, records the build and deploys it: all in its trace."""
    positions, over_http = published["positions"], _by_position(published["over_http"])
    ingested = [e for p, e in over_http.items() if p > positions["batch"]]
    assert [e["ledgeractor"] for e in ingested] == ["/argocd/acme/checkout-staging"] * 3
    assert {e["traceparent"] for e in ingested} == {ARGO_STARTED}


async def test_writes_without_a_valid_trace_publish_what_they_did_before(published: Any) -> None:
    positions, over_http = published["positions"], _by_position(published["over_http"])
    for write in ("build", "invalid"):
        event = over_http[positions[write]]
        assert "traceparent" not in event and "tracestate" not in event
    for msg in published["events"]:
        event = json.loads(msg.data)
        if event["ledgerposition"] in (positions["build"], positions["invalid"]):
            assert "traceparent" not in (msg.headers or {})
            assert b"traceparent" not in msg.data
    assert published["verified"]["ok"] is True, published["verified"]


async def test_nats_messages_carry_the_trace_as_header_and_extension(published: Any) -> None:
    positions = published["positions"]
    [deploy] = [
        m
        for m in published["events"]
        if json.loads(m.data)["ledgerposition"] == positions["deploy"]
    ]
    assert deploy.headers["traceparent"] == DEPLOY
    assert from_json(deploy.data)["traceparent"] == DEPLOY  # the SDK reads the extension
    [app] = [m for m in published["events"] if m.subject == "ledger.events.shop._.app"]
    assert (app.headers["traceparent"], app.headers["tracestate"]) == (
        PIPELINE,
        "congo=t61rcWkgMzE",
    )
    feed = {m.headers["Nats-Msg-Id"]: m for m in published["feed"]}
    assert feed[deploy.headers["Nats-Msg-Id"] + ":feed"].headers["traceparent"] == DEPLOY


async def test_http_serves_the_cloudevents_nats_carries(published: Any) -> None:
    on_nats = [json.loads(m.data) for m in published["events"]]
    assert published["over_http"] == on_nats
