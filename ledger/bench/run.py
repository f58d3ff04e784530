"""A whole benchmark run: a fresh database, `ledger serve` twice, every scenario in order.

1. The first server runs without NATS: it creates the apps and appends the NATS backlog, so
   its events wait for the publisher (like events written while NATS was away).
2. The second server runs with NATS, and stays up for the rest: the publisher catches up on
   the backlog (scenario 6), a warm-up touches every environment once, then come single
   appends (1), appends while SSE clients follow the feed (7), latency (4), delivery (6),
   batch ingest (2), and the log is filled up to its total through the batch endpoint (5).
3. With the server stopped, the views are rebuilt from the whole log (3).
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

import aiohttp
import asyncpg
import msgspec
import nats

from ledger.bench import (
    appends,
    batch,
    delivery,
    latency,
    memory,
    publisher,
    rebuild,
    subscribers,
)
from ledger.bench.plan import FULL, QUICK, Bench, Sizes
from ledger.bench.report import Report, say
from ledger.bench.server import LedgerProcess, fresh_database
from ledger.bench.workload import Workload, create_apps, send_flips

SCENARIOS = (
    appends.SCENARIO,
    batch.SCENARIO,
    rebuild.SCENARIO,
    latency.SCENARIO,
    memory.SCENARIO,
    publisher.SCENARIO,
    subscribers.SCENARIO,
)


async def run(admin_url: str, nats_url: str, *, quick: bool) -> Report:
    """Run every scenario against services at ``admin_url`` and ``nats_url``."""
    sizes = QUICK if quick else FULL
    report = Report(machine=await machine(admin_url, nats_url), sizes=msgspec.to_builtins(sizes))
    say(f"{'quick' if quick else 'full'} run: {report.sizes}")
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as workdir:
        async with fresh_database(admin_url) as database_url:
            await _run(report, sizes, database_url, nats_url, Path(workdir))
    return report


async def _run(
    report: Report, sizes: Sizes, database_url: str, nats_url: str, workdir: Path
) -> None:
    workload = Workload(sizes.apps, sizes.envs)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
        first = LedgerProcess(database_url, None, workdir)
        bench = Bench(sizes, database_url, nats_url, first, session, workload)
        baseline = await _backlog(bench)
        sequence = await publisher.stream_sequence(nats_url)
        bench.server = LedgerProcess(database_url, nats_url, workdir)
        started = time.monotonic()
        await bench.server.start()
        try:
            report.add(*await publisher.run(bench, started, sequence))
            after_backlog = await memory.mark(bench)
            await _warm_up(bench)
            report.add(*await appends.run(bench))
            report.add(*await subscribers.run(bench))
            report.add(*await latency.run(bench))
            await bench.server.settle(session)
            report.add(*await delivery.run(bench))
            report.add(*await batch.run(bench))
            await memory.fill(bench)
            report.add(*await memory.run(bench, after_backlog, baseline))
        except BaseException:
            say(f"server log:\n{bench.server.log_tail()}")
            raise
        finally:
            await bench.server.stop()
    report.add(*await rebuild.run(bench))
    report.rows.sort(key=lambda row: row.scenario)
    report.notes.append(
        f"{len(workload.environments)} environments ({sizes.apps} apps x {sizes.envs} envs); "
        "every event is a flag flip; the log was filled through POST /v1/events:batch"
    )


async def _warm_up(bench: Bench) -> None:
    """One flip in every environment, so that the new server's writer holds every stream (the
    figures that follow are of a server in its steady state, not of its first loads)."""
    count = len(bench.workload.environments)
    say(f"warming up: one flip in each of the {count:,} environments")
    await send_flips(
        bench.session, bench.url, bench.workload, bench.take(count), count, chunk=count
    )
    await bench.server.settle(bench.session)


async def _backlog(bench: Bench) -> float:
    """With a server without NATS: create the apps and append the publisher's backlog.
    Returns that server's RSS when it was new and idle (MB)."""
    server = bench.server
    await server.start()
    try:
        baseline = server.rss_mb()
        await create_apps(bench.session, server.url, bench.workload)
        count = bench.sizes.backlog - len(bench.workload.apps)
        say(f"loading the NATS backlog: {count:,} flips through a server without NATS")
        await send_flips(
            bench.session,
            server.url,
            bench.workload,
            bench.take(count),
            count,
            chunk=bench.sizes.chunk,
            label="backlog",
        )
        await server.settle(bench.session)
        return baseline
    finally:
        await server.stop()


async def machine(admin_url: str, nats_url: str | None = None) -> dict[str, object]:
    """Where the run happens: CPUs, load, memory, Python, PostgreSQL (and its durability), and
    NATS when the run uses it."""
    conn = await asyncpg.connect(admin_url)
    try:
        postgres = await conn.fetchval("SHOW server_version")
        fsync = await conn.fetchval("SHOW fsync")
        synchronous_commit = await conn.fetchval("SHOW synchronous_commit")
        shared_buffers = await conn.fetchval("SHOW shared_buffers")
    finally:
        await conn.close()
    found: dict[str, object] = {
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "load_average": os.getloadavg()[0],
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "postgres": postgres,
        "postgres_fsync": fsync,
        "postgres_synchronous_commit": synchronous_commit,
        "postgres_shared_buffers": shared_buffers,
    }
    if nats_url is not None:
        nc = await nats.connect(nats_url, connect_timeout=5)
        version = nc.connected_server_version
        found["nats"] = f"{version.major}.{version.minor}.{version.patch}"
        await nc.close()
    return found


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
