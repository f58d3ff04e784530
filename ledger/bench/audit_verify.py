"""`ledger verify` measured: its verifier, in this process, with one and two jobs, beside a
raw scan of the events table that hashes every row."""

from __future__ import annotations

import asyncio
import hashlib

import asyncpg

from ledger.audit.verifier import verify_log
from ledger.bench.report import Row, Ticker, say
from ledger.bench.timing import Stopwatch
from ledger.eventstore.application import LedgerStore
from ledger.settings import Settings

SCENARIO_VERIFY, VERIFY_TARGET = "D verify", 100_000.0


async def verify(database_url: str) -> list[Row]:
    """`ledger verify` (its verifier, in this process) with one and two jobs, beside a raw
    scan of the events table that hashes every row."""
    settings = Settings(database_url=database_url)
    store = await asyncio.to_thread(LedgerStore, settings)
    rows = []
    try:
        head = await asyncio.to_thread(store.head)
        for jobs in (1, 2):
            events, rate = await asyncio.to_thread(_verified, store, head, jobs)
            rows.append((jobs, events, rate))
    finally:
        store.close()
    raw = await raw_hash_rate(database_url, head)
    return [
        Row(
            scenario=SCENARIO_VERIFY,
            figure=f"ledger verify --jobs {jobs}, {events:,} events and every checkpoint",
            value=rate,
            unit="events/s",
            reference=raw,
            reference_of="asyncpg scan + SHA-256 of each row",
            target=f"≥ {VERIFY_TARGET:,.0f} events/s",
            met=rate >= VERIFY_TARGET,
        )
        for jobs, events, rate in rows
    ]


def _verified(store: LedgerStore, head: int, jobs: int) -> tuple[int, float]:
    """Verify the whole log with ``jobs`` jobs; (events, events/s). Fails on any problem."""
    ticker = Ticker(f"verify --jobs {jobs}", head)
    report = verify_log(store, None, lambda done, _: ticker(done), jobs=jobs)
    if not report.ok or report.uncovered:
        raise RuntimeError(f"verify found problems: {report.problems[:3]} {report.warnings}")
    rate = report.events / max(report.seconds, 1e-9)
    say(f"verify --jobs {jobs}: {report.events:,} events at {rate:,.0f} events/s")
    return report.events, rate


async def raw_hash_rate(database_url: str, total: int) -> float:
    """Read every stored event in order with a cursor and SHA-256 its row; events/s."""
    conn = await asyncpg.connect(database_url)
    try:
        ticker, watch, count = Ticker(f"{SCENARIO_VERIFY} (raw)", total), Stopwatch(), 0
        async with conn.transaction():
            query = (
                "SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM ledger_events ORDER BY notification_id"
            )
            async for record in conn.cursor(query, prefetch=5_000):
                hashlib.sha256(record["state"]).digest()
                count += 1
                if count % 5_000 == 0:
                    ticker(count)
        return watch.rate(count)
    finally:
        await conn.close()
