"""Scenario 2: batch ingest through POST /v1/events:batch (NDJSON chunks), against raw
asyncpg COPY of as many rows of the same payload, in chunks of the same size."""

from __future__ import annotations

import asyncpg

from ledger.bench.plan import Bench
from ledger.bench.report import Row, ratio_row, say
from ledger.bench.timing import Stopwatch
from ledger.bench.workload import (
    RAW_COLUMNS,
    RAW_TABLE,
    create_raw_table,
    raw_rows,
    sample_state,
    send_flips,
)

SCENARIO = "2 batch ingest"
IN_FLIGHT = 2


async def run(bench: Bench) -> list[Row]:
    sizes = bench.sizes
    say(f"{SCENARIO}: {sizes.batch:,} flag flips in NDJSON chunks of {sizes.chunk:,}")
    first = bench.take(sizes.batch)
    watch = Stopwatch()
    await send_flips(
        bench.session,
        bench.url,
        bench.workload,
        first,
        sizes.batch,
        chunk=sizes.chunk,
        in_flight=IN_FLIGHT,
        label=SCENARIO,
    )
    ledger = watch.rate(sizes.batch)
    say(f"{SCENARIO}: ledger {ledger:,.0f} commands/s; now raw COPY")
    await bench.server.settle(bench.session)  # the raw reference gets the machine to itself
    raw = await raw_copy(bench.database_url, sizes.batch, sizes.chunk)
    say(f"{SCENARIO}: raw {raw:,.0f} rows/s")
    figure = f"POST /v1/events:batch, {sizes.chunk:,} a request, {IN_FLIGHT} in flight"
    reference_of = f"COPY, {sizes.chunk:,} rows a transaction"
    return [ratio_row(SCENARIO, figure, ledger, raw, reference_of, at_least=0.25)]


async def raw_copy(database_url: str, count: int, chunk: int) -> float:
    """COPY ``count`` rows in transactions of ``chunk`` rows each; rows/s."""
    conn = await asyncpg.connect(database_url)
    try:
        state = await sample_state(conn)
        await create_raw_table(conn)
        rows = raw_rows(count, state, streams=1000)
        watch = Stopwatch()
        for start in range(0, count, chunk):
            await conn.copy_records_to_table(
                RAW_TABLE, records=rows[start : start + chunk], columns=RAW_COLUMNS
            )
        return watch.rate(count)
    finally:
        await conn.close()
