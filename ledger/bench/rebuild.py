"""Scenario 3: rebuilding every view from the whole log (what `ledger projections rebuild`
does, in this process, with the server stopped), against a raw asyncpg scan of the events
table that decodes every stored state with msgspec."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from eventsourcing.utils import resolve_topic

from ledger.bench.plan import Bench
from ledger.bench.report import Row, Ticker, say
from ledger.bench.timing import Stopwatch
from ledger.bench.workload import EVENTS_TABLE
from ledger.eventstore.application import LedgerStore
from ledger.eventstore.backends import decoder_of
from ledger.read_side import open_views
from ledger.settings import Settings

SCENARIO = "3 projection rebuild"
TARGET = 50_000.0
PREFETCH = 5_000


async def run(bench: Bench) -> list[Row]:
    say(f"{SCENARIO}: rebuilding every view from the log")
    ledger, events = await rebuild_rate(bench.database_url)
    say(f"{SCENARIO}: {events:,} events at {ledger:,.0f} events/s; now the raw scan")
    raw = await raw_scan_rate(bench.database_url, events)
    say(f"{SCENARIO}: raw scan and decode {raw:,.0f} events/s")
    return [
        Row(
            scenario=SCENARIO,
            figure=f"rebuild of {events:,} events",
            value=ledger,
            unit="events/s",
            reference=raw,
            reference_of="asyncpg scan + msgspec decode",
            target=f"≥ {TARGET:,.0f} events/s",
            met=ledger >= TARGET,
        )
    ]


async def rebuild_rate(database_url: str) -> tuple[float, int]:
    """Rebuild the views as `ledger projections rebuild` does; (events/s, events)."""
    settings = Settings(database_url=database_url)
    store = await asyncio.to_thread(LedgerStore, settings)
    try:
        views = await open_views(settings, store)
        try:
            total = await asyncio.to_thread(store.head)
            ticker = Ticker(SCENARIO, total)
            watch = Stopwatch()
            position = await views.runner.rebuild(lambda done, _total: ticker(done))
            return watch.rate(position), position
        finally:
            await views.close()
    finally:
        store.close()


async def raw_scan_rate(database_url: str, total: int) -> float:
    """Read every stored event in order with a cursor and decode its state; events/s."""
    conn = await asyncpg.connect(database_url)
    try:
        ticker = Ticker(f"{SCENARIO} (raw)", total)
        decoders: dict[str, Any] = {}
        count = 0
        watch = Stopwatch()
        async with conn.transaction():
            query = f"SELECT notification_id, topic, state FROM {EVENTS_TABLE} ORDER BY 1"
            async for record in conn.cursor(query, prefetch=PREFETCH):
                topic = record["topic"]
                decoder = decoders.get(topic)
                if decoder is None:
                    decoder = decoders[topic] = decoder_of(resolve_topic(topic))
                decoder.decode(record["state"])
                count += 1
                if count % PREFETCH == 0:
                    ticker(count)
        return watch.rate(count)
    finally:
        await conn.close()
