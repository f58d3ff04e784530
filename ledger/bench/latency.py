"""Scenario 4: append latency at a fixed rate (open loop: each request is sent when it is due
and timed from then), against raw INSERT commits sent on the same schedule."""

from __future__ import annotations

import aiohttp
import asyncpg
import msgspec

from ledger.bench.plan import Bench
from ledger.bench.report import Row, say
from ledger.bench.timing import latency_rows, open_loop
from ledger.bench.workload import RAW_INSERT, create_raw_table, raw_rows, sample_state

SCENARIO = "4 append latency"
JSON = {"Content-Type": "application/json"}
RAW_POOL = 16
CONNECTIONS = 256  # beyond this, requests wait in the client (still timed from when due)
TIMEOUT = aiohttp.ClientTimeout(total=600)


async def run(bench: Bench) -> list[Row]:
    sizes = bench.sizes
    count = int(sizes.rate * sizes.seconds)
    say(f"{SCENARIO}: {count:,} appends at {sizes.rate:,}/s, open loop")
    ledger = await ledger_latencies(bench, sizes.rate, count)
    await bench.server.settle(bench.session)  # the raw reference gets the machine to itself
    say(f"{SCENARIO}: now raw INSERT commits at the same rate")
    raw = await raw_latencies(bench.database_url, sizes.rate, count)
    rows = latency_rows(
        SCENARIO,
        lambda p: f"p{p} at {sizes.rate:,} appends/s",
        ledger,
        raw,
        reference_of=f"INSERT+COMMIT, pool of {RAW_POOL}",
        p99_target=25.0,
    )
    say(f"{SCENARIO}: ledger p50 {rows[0].value:.1f} ms, p99 {rows[1].value:.1f} ms")
    return rows


async def ledger_latencies(bench: Bench, rate: int, count: int) -> list[float]:
    """Latencies (s) of ``count`` flag flips sent at ``rate`` a second."""
    first = bench.take(count)
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as session:

        async def send(i: int) -> None:
            flip = bench.workload.flip(first + i)
            path = f"/v1/apps/{flip.app}/envs/{flip.env}/flags/{flip.flag}"
            body = msgspec.json.encode({"enabled": flip.enabled})
            async with session.put(bench.url + path, data=body, headers=JSON) as response:
                await response.read()
                if response.status != 201:
                    raise RuntimeError(f"{path} answered {response.status}")

        return await open_loop(rate, count, send, SCENARIO)


async def raw_latencies(database_url: str, rate: int, count: int) -> list[float]:
    """Latencies (s) of ``count`` single-row INSERT commits sent at ``rate`` a second."""
    async with asyncpg.create_pool(database_url, min_size=RAW_POOL, max_size=RAW_POOL) as pool:
        async with pool.acquire() as conn:
            state = await sample_state(conn)
            await create_raw_table(conn)
        rows = raw_rows(count, state, streams=1000)

        async def send(i: int) -> None:
            async with pool.acquire() as conn:
                await conn.execute(RAW_INSERT, *rows[i])

        return await open_loop(rate, count, send, f"{SCENARIO} (raw)")
