"""GET /v1/feed: every change once, in order, live; a client that reconnects with
Last-Event-ID gets exactly what it missed; filters, keep-alives, and a clean end at shutdown."""

from __future__ import annotations

import asyncio
import time

from ledger.http.keys import FEED, TOKENS
from ledger.service.tokens import parse_scopes


async def test_a_client_that_reconnects_gets_exactly_what_it_missed(ledger) -> None:
    await ledger.seed()
    feed = await ledger.feed("?after=0")
    first = await feed.changes(3)
    assert [i["kind"] for i in first] == ["app", "build", "deploy"]
    feed.close()
    missed = [await ledger.flag("f1", True), await ledger.flag("f2", False)]
    again = await ledger.feed(**{"Last-Event-ID": str(first[-1]["position"])})
    assert [i["position"] for i in await again.changes(2)] == missed
    assert (await again.next()) == {"": "ping"}  # nothing else was pending
    live = await ledger.flag("f3", True)
    assert [i["position"] for i in await again.changes(1)] == [live]
    again.close()


async def test_last_event_id_wins_over_after(ledger) -> None:
    _, built, deployed = await ledger.seed()
    feed = await ledger.feed("?after=0", **{"Last-Event-ID": str(built)})
    assert [i["position"] for i in await feed.changes(1)] == [deployed]
    feed.close()


async def test_a_new_client_starts_from_now(ledger) -> None:
    await ledger.seed()
    feed = await ledger.feed()
    position = await ledger.flag("f1", True)
    item = (await feed.changes(1))[0]
    assert item["position"] == position
    assert item["summary"] == "ci-bot turned flag f1 on in shop prod"
    feed.close()


async def test_changes_are_history_items_with_their_summary(ledger) -> None:
    _, built, deployed = await ledger.seed()
    feed = await ledger.feed(f"?after={built}")
    deploy = (await feed.changes(1))[0]
    query = f"?after={built}&min_position={deployed}"
    history = (await ledger.request("GET", f"/v1/history{query}"))[1]["items"]
    assert deploy == history[0]
    assert deploy["summary"].startswith("ci-bot deployed shop v1 (")
    feed.close()


async def test_filters_pick_app_env_kind_and_actor(ledger) -> None:
    await ledger.seed()
    await ledger.flag("f1", True, env="staging")
    wanted = await ledger.flag("f2", True, env="prod")
    await ledger.write("POST", "/v1/apps/shop/envs/prod/deploys", {"build_id": "b1"})
    bob = {"X-Ledger-Actor": "bob"}
    by_bob = await ledger.write("PUT", "/v1/apps/shop/envs/prod/flags/f3", {"enabled": True}, **bob)
    feed = await ledger.feed("?after=0&app=shop&env=prod&kind=flag")
    assert [i["position"] for i in await feed.changes(2)] == [wanted, by_bob]
    feed.close()
    feed = await ledger.feed("?after=0&actor=bob")
    assert [i["position"] for i in await feed.changes(1)] == [by_bob]
    assert (await feed.next()) == {"": "ping"}
    feed.close()


async def test_an_idle_stream_gets_keep_alive_comments(ledger) -> None:
    feed = await ledger.feed()
    assert (await feed.next(timeout=5)) == {"retry": "2000"}
    started = time.monotonic()
    assert (await feed.next(timeout=5)) == {"": "ping"}
    assert (await feed.next(timeout=5)) == {"": "ping"}
    assert time.monotonic() - started < 3
    feed.close()


async def test_a_slow_subscriber_is_caught_up_from_the_view(ledger) -> None:
    deployed = (await ledger.seed())[-1]
    ledger.server.app[FEED].capacity = 2  # a burst overflows the live queue at once
    feed = await ledger.feed(f"?after={deployed}")
    burst = [await ledger.flag(f"f{n}", n % 2 == 0) for n in range(40)]
    got = await feed.changes(40)
    assert [i["position"] for i in got] == burst
    assert (await feed.next()) == {"": "ping"}
    feed.close()


async def test_shutdown_ends_every_open_stream(start) -> None:
    ledger = await start()
    await ledger.seed()
    feeds = [await ledger.feed("?after=0") for _ in range(3)]
    for feed in feeds:
        await feed.changes(3)
    started = time.monotonic()
    closing = asyncio.create_task(ledger.server.close())
    for feed in feeds:
        while (block := await feed.next(timeout=5)) != {}:
            assert block == {"": "ping"}
    await asyncio.wait_for(closing, 10)
    assert time.monotonic() - started < 5


async def test_bad_positions_and_kinds_are_422(ledger) -> None:
    for query, headers in (("?after=x", {}), ("", {"Last-Event-ID": "-1"}), ("?kind=nope", {})):
        async with ledger.session.get(f"{ledger.url}/v1/feed{query}", headers=headers) as r:
            assert r.status == 422, await r.text()
            assert r.content_type == "application/problem+json"


async def test_the_feed_needs_the_read_scope_like_any_read(ledger) -> None:
    await ledger.seed()
    tokens = ledger.server.app[TOKENS]
    reader = await tokens.create("viewer", "human", parse_scopes("read"))
    builder = await tokens.create("builder", "ci", parse_scopes("build:write"))
    async with ledger.session.get(f"{ledger.url}/v1/feed?after=0") as response:
        assert response.status == 401
    headers = {"Authorization": f"Bearer {builder}"}
    async with ledger.session.get(f"{ledger.url}/v1/feed?after=0", headers=headers) as response:
        assert response.status == 403
    feed = await ledger.feed("?after=0", Authorization=f"Bearer {reader}")
    assert len(await feed.changes(3)) == 3
    feed.close()
