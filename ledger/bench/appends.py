"""Scenario 1: single-event durable appends over HTTP, each flag flip its own request from
many concurrent connections, against raw asyncpg single-row INSERT commits of the same
payload into a comparable table."""

from __future__ import annotations

import asyncio

import aiohttp
import asyncpg
import msgspec

from ledger.bench.plan import Bench
from ledger.bench.report import Row, Ticker, ratio_row, say
from ledger.bench.timing import Stopwatch
from ledger.bench.workload import RAW_INSERT, create_raw_table, raw_rows, sample_state, split

SCENARIO = "1 single appends"
JSON = {"Content-Type": "application/json"}


async def run(bench: Bench) -> list[Row]:
    sizes = bench.sizes
    say(f"{SCENARIO}: {sizes.appends:,} flag flips, one request each, {sizes.connections} conns")
    ledger = await ledger_appends(bench, sizes.appends, sizes.connections)
    say(f"{SCENARIO}: ledger {ledger:,.0f} appends/s; now raw INSERT commits")
    await bench.server.settle(bench.session)  # the raw reference gets the machine to itself
    raw = await raw_inserts(bench.database_url, sizes.appends, sizes.raw_connections)
    say(f"{SCENARIO}: raw {raw:,.0f} commits/s")
    figure = f"durable HTTP appends, {sizes.connections} connections"
    reference_of = f"INSERT+COMMIT, {sizes.raw_connections} conns"
    return [ratio_row(SCENARIO, figure, ledger, raw, reference_of, at_least=0.25)]


async def ledger_appends(bench: Bench, count: int, connections: int) -> float:
    """PUT …/flags/{flag} ``count`` times over ``connections`` connections; appends/s."""
    first = bench.take(count)
    ticker = Ticker(SCENARIO, count)
    done = 0
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(indices: range) -> None:
            nonlocal done
            for i in indices:
                flip = bench.workload.flip(first + i)
                path = f"/v1/apps/{flip.app}/envs/{flip.env}/flags/{flip.flag}"
                body = msgspec.json.encode({"enabled": flip.enabled})
                async with session.put(bench.url + path, data=body, headers=JSON) as response:
                    if response.status != 201:
                        raise RuntimeError(f"{path} answered {response.status}")
                    await response.read()
                done += 1
                ticker(done)

        watch = Stopwatch()
        await asyncio.gather(*(worker(part) for part in split(count, connections)))
        return watch.rate(count)


async def raw_inserts(database_url: str, count: int, connections: int) -> float:
    """``count`` single-row INSERTs, each committed on its own, from ``connections``; rows/s."""
    conns = [await asyncpg.connect(database_url) for _ in range(connections)]
    try:
        state = await sample_state(conns[0])
        await create_raw_table(conns[0])
        rows = raw_rows(count, state, streams=1000)

        async def worker(conn: asyncpg.Connection, indices: range) -> None:
            for i in indices:
                await conn.execute(RAW_INSERT, *rows[i])

        watch = Stopwatch()
        await asyncio.gather(
            *(worker(c, p) for c, p in zip(conns, split(count, connections), strict=True))
        )
        return watch.rate(count)
    finally:
        for conn in conns:
            await conn.close()
