"""Scenario 5: the server's resident memory (VmRSS) after the runs, and how much it grew while
the log went from the first mark (about a tenth of the total) to the total."""

from __future__ import annotations

from ledger.bench.plan import Bench
from ledger.bench.report import Row, say
from ledger.bench.timing import Stopwatch
from ledger.bench.workload import send_flips

SCENARIO = "5 server memory"
LIMIT_MB = 250.0
STEPS = 10


async def head(bench: Bench) -> int:
    ready = await bench.server.readyz(bench.session)
    position: int = ready["head"]
    return position


async def mark(bench: Bench) -> tuple[int, float]:
    """Note the server's RSS now, named by the head of the log; (head, MB)."""
    events, rss = await head(bench), bench.server.rss_mb()
    bench.marks[f"{events}"] = rss
    say(f"{SCENARIO}: RSS {rss:,.1f} MB with {events:,} events in the log")
    return events, rss


async def fill(bench: Bench) -> None:
    """Append flips through the batch endpoint until the log holds ``sizes.total`` events,
    noting the RSS at every tenth of the way; then wait for the followers to catch up."""
    sizes = bench.sizes
    missing = sizes.total - await head(bench)
    say(f"{SCENARIO}: filling the log up to {sizes.total:,} events ({missing:,} more)")
    watch, sent = Stopwatch(), missing
    step = max(sizes.chunk, -(-missing // STEPS))
    while missing > 0:
        count = min(step, missing)
        await send_flips(
            bench.session,
            bench.url,
            bench.workload,
            bench.take(count),
            count,
            chunk=sizes.chunk,
            label=f"{SCENARIO} fill",
        )
        missing -= count
        await mark(bench)
    say(f"{SCENARIO}: filled at {watch.rate(sent):,.0f} events/s (loose: followers run too)")
    await bench.server.settle(bench.session)


async def run(bench: Bench, first: tuple[int, float], baseline: float) -> list[Row]:
    """The rows, from the mark taken after the backlog and the RSS of the idle new server."""
    events, rss = await mark(bench)
    grew = rss - first[1]
    return [
        Row(
            scenario=SCENARIO,
            figure=f"server RSS after the runs ({events:,} events in the log)",
            value=rss,
            unit="MB",
            reference=baseline,
            reference_of="a new server, idle",
            target=f"< {LIMIT_MB:g} MB",
            met=rss < LIMIT_MB,
        ),
        Row(
            scenario=SCENARIO,
            figure=f"RSS growth from {first[0]:,} to {events:,} events",
            value=grew,
            unit="MB",
        ),
    ]
