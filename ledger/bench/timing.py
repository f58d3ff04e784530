"""Measuring: rates, percentiles, and an open-loop driver that sends on a fixed schedule."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

from ledger.bench.report import Row, say


class Stopwatch:
    """Seconds since it was made (monotonic)."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def rate(self, count: int) -> float:
        return count / max(self.seconds, 1e-9)


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of the values."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


async def open_loop(
    rate: float, count: int, send: Callable[[int], Awaitable[None]], label: str
) -> list[float]:
    """Call ``send(i)`` at ``start + i / rate`` whether or not earlier calls have finished,
    and return each call's latency in seconds, counted from when it was due (so a stall is
    charged to every request it delays, not hidden by sending less)."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1
    latencies = [0.0] * count
    tasks: set[asyncio.Task[None]] = set()

    async def one(i: int, due: float) -> None:
        await send(i)
        latencies[i] = loop.time() - due

    next_say = start + 2
    for i in range(count):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(i, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        if loop.time() >= next_say:
            next_say = loop.time() + 2
            say(f"{label}: sent {i + 1:,}/{count:,}, {len(tasks)} in flight")
    await asyncio.gather(*tasks)
    return latencies


def milliseconds(seconds: float) -> float:
    return seconds * 1000


def latency_rows(
    scenario: str,
    figure: Callable[[int], str],
    ledger: Sequence[float],
    raw: Sequence[float],
    reference_of: str,
    p99_target: float,
) -> list[Row]:
    """The p50 and p99 latencies (ms) beside the raw reference's; only p99 has a target."""
    rows = []
    for p, target in ((50, None), (99, p99_target)):
        value = milliseconds(percentile(ledger, p))
        rows.append(
            Row(
                scenario=scenario,
                figure=figure(p),
                value=value,
                unit="ms",
                reference=milliseconds(percentile(raw, p)),
                reference_of=reference_of,
                target=None if target is None else f"≤ {target:g} ms",
                met=None if target is None else value <= target,
            )
        )
    return rows
