"""Loading a large log for the audit benchmark, through the domain's own write path.

Every command goes through the in-process group-commit ``Writer`` (as HTTP, NATS and the CLI
do), so each event is genuine: decided by the domain, hash-chained, snapshotted, with
idempotency records for CI runs. One long environment (``shop/prod``) holds ``env_events``
events, a config change (a release) every ``CONFIG_EVERY`` events and flag flips in between;
the rest are flag flips spread round robin over the environments of ``Workload`` (as in
``ledger bench``). Then the views are rebuilt and the Merkle tree checkpointed, side by side.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import deque
from collections.abc import Iterator
from itertools import islice

import asyncpg

from ledger.bench import rebuild
from ledger.bench.report import Row, Ticker, say
from ledger.bench.timing import Stopwatch
from ledger.bench.workload import (
    RAW_COLUMNS,
    RAW_TABLE,
    Workload,
    create_raw_table,
    raw_rows,
    sample_state,
)
from ledger.domain.commands import AnyCommand, ChangeConfig, Context, CreateApp, SetFlag
from ledger.eventstore.application import LedgerStore
from ledger.service.writer import Writer
from ledger.settings import Settings

SCENARIO = "A bulk load"
APP, ENV = "shop", "prod"
CONFIG_EVERY = 10
CI_EVERY = 100  # one in this many of its events is a config change by a CI run (idempotent)
HUMANS = ("alice", "bob", "carol", "dave")
INCIDENT_EVERY = 100  # one event in this many gives a reason naming an incident (for q=)
CHUNK = 2_048  # commands submitted at once; two chunks in flight keep the writer busy
BATCH_MAX = 1_000  # commands the writer decides and commits in one transaction
RAW_SAMPLE = 100_000  # rows the raw reference inserts (its rate, not its total, is compared)

Item = tuple[AnyCommand, Context]


class Plan:
    """The commands of a load of about ``events`` events, ``env_events`` of them in APP/ENV."""

    def __init__(self, events: int, env_events: int) -> None:
        self.workload = Workload(apps=100, envs=5)
        self.env_events = env_events
        runs = env_events // CI_EVERY  # each also records its idempotency key
        apps = len(self.workload.apps) + 1
        self.spread = max(0, events - apps - env_events - runs)
        self.events = apps + env_events + runs + self.spread

    def items(self) -> Iterator[Item]:
        """The apps first, then the long environment's events interleaved with the rest."""
        human = Context(actor="admin", via="cli")
        for app in (APP, *self.workload.apps):
            yield CreateApp(app=app), human
        long_done = 0
        for i in range(self.spread + 1):
            while long_done < self.env_events and long_done * self.spread <= i * self.env_events:
                yield self._long(long_done)
                long_done += 1
            if i < self.spread:
                yield self._spread(i)

    def _long(self, i: int) -> Item:
        actor = HUMANS[i % len(HUMANS)]
        if i % CONFIG_EVERY == 0:
            if i % CI_EVERY == 0:
                actor = "ci-bot"
            ctx = Context(
                actor=actor,
                actor_kind="ci" if actor == "ci-bot" else "human",
                via="cli",
                correlation_id=f"run-{i}",
            )
            cmd: AnyCommand = ChangeConfig(
                app=APP, env=ENV, set={f"KEY_{i % 7}": f"v{i}"}, reason=_reason(i)
            )
            return cmd, ctx
        turn = i // 20
        flip = SetFlag(
            app=APP, env=ENV, flag=f"flag-{i % 20}", enabled=turn % 2 == 0, reason=_reason(i)
        )
        return flip, Context(actor=actor, via="http")

    def _spread(self, i: int) -> Item:
        f = self.workload.flip(i)
        cmd = SetFlag(app=f.app, env=f.env, flag=f.flag, enabled=f.enabled, reason=_reason(i))
        return cmd, Context(actor=HUMANS[i % len(HUMANS)], via="http")


def _reason(i: int) -> str | None:
    return f"INC-{i // INCIDENT_EVERY}: incident follow-up" if i % INCIDENT_EVERY == 7 else None


async def load(database_url: str, plan: Plan) -> list[Row]:
    """Write the plan's commands through the writer; the load rate beside raw inserts."""
    say(f"{SCENARIO}: {plan.events:,} events, {plan.env_events:,} of them in {APP}/{ENV}")
    settings = Settings(database_url=database_url)
    store = await asyncio.to_thread(LedgerStore, settings)
    writer = Writer(
        store,
        batch_max=BATCH_MAX,
        snapshot_interval=settings.snapshot_interval,
        moment_interval=settings.moment_interval,
    )
    try:
        watch = Stopwatch()
        await _submit(writer, plan)
        head = await asyncio.to_thread(store.head)
        rate = watch.rate(head)
        say(f"{SCENARIO}: {head:,} events in {watch.seconds:,.1f}s ({rate:,.0f} events/s)")
    finally:
        await asyncio.to_thread(writer.close)
        store.close()
    raw = await raw_insert_rate(database_url, min(head, RAW_SAMPLE))
    return [
        Row(
            scenario=SCENARIO,
            figure=f"{head:,} commands through the writer (group commit, ≤ {BATCH_MAX:,} a save)",
            value=rate,
            unit="events/s",
            reference=raw,
            reference_of=f"asyncpg COPY, {BATCH_MAX:,} rows a transaction",
        )
    ]


async def _submit(writer: Writer, plan: Plan) -> None:
    """Submit every command, two chunks in flight; fail on the first refused command."""
    ticker = Ticker(SCENARIO, plan.events, every=10.0)
    items, in_flight, done = plan.items(), deque[list[asyncio.Future[object]]](), 0
    while chunk := list(islice(items, CHUNK)):
        in_flight.append([writer.submit_async(cmd, ctx) for cmd, ctx in chunk])  # type: ignore[misc]
        if len(in_flight) > 1:
            done += await _settled(in_flight.popleft())
            ticker(done)
    while in_flight:
        await _settled(in_flight.popleft())


async def _settled(futures: list[asyncio.Future[object]]) -> int:
    await asyncio.gather(*futures)
    return len(futures)


async def raw_insert_rate(database_url: str, count: int) -> float:
    """COPY ``count`` rows like the ledger's into a table like its own, in transactions of
    BATCH_MAX rows; rows/s."""
    conn = await asyncpg.connect(database_url)
    try:
        state = await sample_state(conn)
        await create_raw_table(conn)
        rows = raw_rows(count, state, streams=501)
        watch = Stopwatch()
        for first in range(0, count, BATCH_MAX):
            async with conn.transaction():
                await conn.copy_records_to_table(
                    RAW_TABLE, records=rows[first : first + BATCH_MAX], columns=RAW_COLUMNS
                )
        rate = watch.rate(count)
        await conn.execute(f"DROP TABLE {RAW_TABLE}")
        return rate
    finally:
        await conn.close()


async def build_views(database_url: str) -> list[Row]:
    """Rebuild the views in this process while `ledger checkpoint` covers the log with a
    checkpoint in another (the two use separate tables and each a core)."""
    say(f"{SCENARIO}: rebuilding the views; checkpointing the log in a second process")
    checkpoint = await _start_checkpoint(database_url)
    rate, events = await rebuild.rebuild_rate(database_url)
    say(f"{SCENARIO}: views rebuilt at {rate:,.0f} events/s; waiting for the checkpoint")
    out, _ = await checkpoint.communicate()
    if checkpoint.returncode != 0:
        raise RuntimeError(f"ledger checkpoint failed:\n{out.decode(errors='replace')}")
    say(f"{SCENARIO}: checkpoint written; the raw scan for the rebuild's reference")
    raw = await rebuild.raw_scan_rate(database_url, events)
    return [
        Row(
            scenario=SCENARIO,
            figure=f"projection rebuild of {events:,} events",
            value=rate,
            unit="events/s",
            reference=raw,
            reference_of="asyncpg scan + msgspec decode",
        )
    ]


async def _start_checkpoint(database_url: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env |= {"LEDGER_DATABASE_URL": database_url, "LEDGER_LOG_LEVEL": "WARNING"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ledger.cli.main",
        "checkpoint",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
