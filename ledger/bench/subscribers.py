"""Scenario 7: single appends while hundreds of clients follow the SSE feed (`GET /v1/feed`),
against the same appends, measured just before, with no subscriber. Every subscriber must
then have received every change."""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp

from ledger.bench.appends import ledger_appends
from ledger.bench.plan import Bench
from ledger.bench.report import Row, ratio_row, say

SCENARIO = "7 feed subscribers"
DELIVERY_TIMEOUT = 120.0
CHANGE = b"\nevent: change\n"  # one per change; counted in C, so the clients stay cheap


class Subscriber:
    """One SSE client of the whole feed, from now on: counts the changes it receives."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url
        self.changes = 0
        self.connected = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        async with self.session.get(self.url + "/v1/feed") as response:
            if response.status != 200:
                raise RuntimeError(f"/v1/feed answered {response.status}")
            self.connected.set()
            carry = b""  # a marker may be cut in two by the chunks
            async for chunk in response.content.iter_any():
                text = carry + chunk
                self.changes += text.count(CHANGE)
                carry = text[-(len(CHANGE) - 1) :]

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


async def run(bench: Bench) -> list[Row]:
    sizes = bench.sizes
    count, clients = sizes.appends // 2, sizes.subscribers
    say(f"{SCENARIO}: {count:,} appends with no subscriber")
    alone = await ledger_appends(bench, count, sizes.connections)
    await bench.server.settle(bench.session)
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        subscribers = [Subscriber(session, bench.url) for _ in range(clients)]
        try:
            for subscriber in subscribers:
                subscriber.start()
            await asyncio.gather(*(s.connected.wait() for s in subscribers))
            say(f"{SCENARIO}: {clients} subscribers connected; {count:,} appends again")
            followed = await ledger_appends(bench, count, sizes.connections)
            delivered = await _delivered(subscribers, count)
        finally:
            for subscriber in subscribers:
                await subscriber.stop()
    say(f"{SCENARIO}: {alone:,.0f} appends/s alone, {followed:,.0f} with {clients} subscribers")
    return [
        ratio_row(
            SCENARIO,
            f"durable HTTP appends, {clients} SSE subscribers following",
            followed,
            alone,
            "the same appends, no subscriber",
            at_least=0.8,
        ),
        Row(
            scenario=SCENARIO,
            figure=f"changes every subscriber received, of {count:,}",
            value=delivered,
            unit="changes",
            reference=float(count),
            reference_of="changes appended",
            target="all",
            met=delivered == count,
        ),
    ]


async def _delivered(subscribers: list[Subscriber], count: int) -> float:
    """Wait until every subscriber has ``count`` changes (or time is up); the fewest received."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while min(s.changes for s in subscribers) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return float(min(s.changes for s in subscribers))
