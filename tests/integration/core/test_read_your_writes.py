"""A plain read shows every write answered before it: no ``min_position`` needed. A client that
wants the views as they are asks for ``?consistency=eventual``; a position beyond the log is the
client's mistake (422 naming the head), a lag past LEDGER_READ_WAIT_SECONDS a 503."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import msgspec

from ledger.http.keys import VIEWS
from ledger.settings import Settings

from ..conftest import app_clients

SHOP = "/v1/apps/shop"
STAGING = f"{SHOP}/envs/staging"
CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
ROUNDS = 20


class Client:
    """Writes that must succeed, and plain reads: never a min_position."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def write(self, method: str, path: str, body: object) -> Any:
        answer = await self.client.request(method, path, json=body, headers=CI)
        assert answer.status == 201, await answer.text()
        return await answer.json()

    async def read(self, path: str, **query: str) -> Any:
        answer = await self.client.get(path, params=query)
        assert answer.status == 200, await answer.text()
        return await answer.json()


def build(build_id: str) -> dict[str, Any]:
    commit = hashlib.sha1(build_id.encode()).hexdigest()[:12]
    return {"build_id": build_id, "commit": commit, "artifact": {"digest": f"sha256:{commit}"},
            "status": "succeeded"}  # fmt: skip


async def test_a_plain_read_right_after_each_kind_of_write_shows_it(settings: Settings) -> None:
    async with app_clients() as start_client:
        ledger = Client(await start_client(settings))
        created = await ledger.write("POST", "/v1/apps", {"name": "shop"})
        assert [a["name"] for a in (await ledger.read("/v1/apps"))["apps"]] == ["shop"], created
        for round in range(ROUNDS):
            await _one_round(ledger, round)


async def _one_round(ledger: Client, round: int) -> None:
    await ledger.write("POST", f"{SHOP}/builds", build(f"b{round}"))
    deploy = {"build_id": f"b{round}", "strategy": "canary", "steps": [10, 50]}
    deployed = await ledger.write("POST", f"{STAGING}/deploys", deploy)
    version = deployed["release"]["version"]
    state = await ledger.read(STAGING)
    assert (state["position"], state["release"]["build_id"]) == (deployed["position"], f"b{round}")

    rollout = f"{STAGING}/releases/{version}/rollout"
    progressed = await ledger.write("POST", rollout, {"percent": 50})
    assert (await ledger.read(f"{STAGING}/releases/{version}"))["rollout_percent"] == 50
    completed = await ledger.write("POST", rollout, {"status": "completed"})
    state = await ledger.read(STAGING)
    assert state["position"] == completed["position"] > progressed["position"]
    assert state["release"]["status"] == "succeeded"

    config = await ledger.write("POST", f"{STAGING}/config", {"set": {"ROUND": str(round)}})
    state = await ledger.read(STAGING)
    assert (state["position"], state["config"]["ROUND"]) == (config["position"], str(round))

    enabled = round % 2 == 0
    flag = await ledger.write("PUT", f"{STAGING}/flags/beta", {"enabled": enabled})
    state = await ledger.read(STAGING)
    assert (state["position"], state["flags"]["beta"]["enabled"]) == (flag["position"], enabled)

    rolled = await ledger.write("POST", f"{STAGING}/rollback", {"reason": f"round {round}"})
    [newest_release, *_] = (await ledger.read(f"{STAGING}/releases"))["releases"]
    assert newest_release["version"] == rolled["release"]["version"]
    assert newest_release["cause"] == "rollback"
    [newest] = (await ledger.read("/v1/history", limit="1"))["items"]
    assert (newest["position"], newest["kind"]) == (rolled["position"], "rollback")
    [summary] = (await ledger.read(SHOP))["envs"]
    assert summary["position"] == rolled["position"]


async def test_clients_reading_at_once_each_see_their_own_writes(settings: Settings) -> None:
    async with app_clients() as start_client:
        ledger = Client(await start_client(settings))
        await ledger.write("POST", "/v1/apps", {"name": "shop"})

        async def client(number: int) -> None:
            env = f"{SHOP}/envs/env-{number}"
            for round in range(ROUNDS // 2):
                flag = await ledger.write("PUT", f"{env}/flags/beta", {"enabled": bool(round % 2)})
                state, history = await asyncio.gather(
                    ledger.read(env), ledger.read("/v1/history", env=f"env-{number}", limit="1")
                )
                assert state["flags"]["beta"]["enabled"] is bool(round % 2)
                assert state["position"] == history["items"][0]["position"] == flag["position"]

        await asyncio.gather(*(client(number) for number in range(8)))


async def test_min_position_beyond_the_log_is_refused_naming_the_head(settings: Settings) -> None:
    async with app_clients() as start_client:
        client = await start_client(settings)
        head = (await Client(client).write("POST", "/v1/apps", {"name": "shop"}))["position"]
        for path in (SHOP, "/v1/history", f"{STAGING}/dora"):
            started = time.monotonic()
            answer = await client.get(path, params={"min_position": str(head + 1)})
            problem = await answer.json()
            assert answer.status == 422, problem
            assert answer.content_type == "application/problem+json"
            assert problem["errors"][0]["field"] == "min_position"
            assert f"head, {head}" in problem["detail"], problem
            assert time.monotonic() - started < 1, "refused at once, not after a wait"
        answer = await client.get(SHOP, params={"min_position": str(head)})
        assert answer.status == 200, await answer.text()


async def test_an_unknown_consistency_is_refused(settings: Settings) -> None:
    async with app_clients() as start_client:
        client = await start_client(settings)
        answer = await client.get("/v1/apps", params={"consistency": "strong"})
        problem = await answer.json()
        assert answer.status == 422 and problem["errors"][0]["field"] == "consistency", problem
        assert "eventual" in problem["detail"]


async def test_views_that_stay_behind_answer_503_after_the_wait_and_eventual_at_once(
    settings: Settings,
) -> None:
    waiting = msgspec.structs.replace(settings, read_wait_seconds=0.5)
    async with app_clients() as start_client:
        client = await start_client(waiting)
        ledger = Client(client)
        await ledger.write("POST", "/v1/apps", {"name": "shop"})
        await ledger.read(SHOP)  # the views have the app
        assert client.app is not None
        await client.app[VIEWS].runner.stop()  # nothing projects any more
        written = await ledger.write("PUT", f"{STAGING}/flags/beta", {"enabled": True})

        started = time.monotonic()
        answer = await client.get(STAGING)
        waited = time.monotonic() - started
        problem = await answer.json()
        assert answer.status == 503, problem
        assert answer.content_type == "application/problem+json"
        assert answer.headers["Retry-After"].isdigit()
        assert str(written["position"]) in problem["detail"], problem
        assert 0.5 <= waited < 3

        started = time.monotonic()
        stale = await ledger.read(SHOP, consistency="eventual")
        assert time.monotonic() - started < 0.4, "eventual answers without waiting"
        assert stale["envs"] == [], "the views as they are: the flag is not in them"


async def test_the_openapi_document_offers_the_opt_out_on_every_read_of_the_views(
    settings: Settings,
) -> None:
    async with app_clients() as start_client:
        client = await start_client(settings)
        paths = (await (await client.get("/openapi.json")).json())["paths"]
    offered = {
        path: param["schema"]
        for path, operations in paths.items()
        for param in operations.get("get", {}).get("parameters", [])
        if param["name"] == "consistency"
    }
    env = "/v1/apps/{app}/envs/{env}"
    views = {"/v1/apps", "/v1/apps/{app}", env, f"{env}/releases", "/v1/history", "/v1/dora"}
    assert views | {"/v1/history/export", f"{env}/dora"} <= set(offered), sorted(offered)
    assert all(s["enum"] == ["latest", "eventual"] for s in offered.values()), offered
