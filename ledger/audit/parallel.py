"""Decoding and hashing the log in worker processes: the costly part of verifying, spread over
cores. Each worker reads its own range of positions (no event crosses a process boundary) and
returns the facts; the main process checks them in log order."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from ledger.audit.checks import Fact, facts_of
from ledger.audit.reader import Dialect, EventDecoder, open_reader
from ledger.settings import Settings

Task = tuple[Settings, Dialect, int, int]
"""The settings, the dialect, and the positions to read: after, until (inclusive)."""

_decoders: dict[str | None, EventDecoder] = {}


def facts_in(task: Task) -> list[Fact]:
    """In a worker: read the events of a range of positions, decode and hash them."""
    settings, dialect, after, until = task
    decode = _decoders.get(settings.cipher_key)
    if decode is None:
        decode = _decoders[settings.cipher_key] = EventDecoder(settings)
    with open_reader(settings, dialect) as reader:
        rows = reader.rows(after, until - after, until)
    return facts_of(rows, decode)


def parallel_facts(
    settings: Settings, dialect: Dialect, head: int, jobs: int, batch: int
) -> Iterator[list[Fact]]:
    """The facts of positions 1..head, batch by batch in order, from ``jobs`` workers, with a
    few batches in flight (so memory stays bounded whoever is faster)."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        pending: deque[Future[list[Fact]]] = deque()
        for after in range(0, head, batch):
            task = (settings, dialect, after, min(after + batch, head))
            pending.append(pool.submit(facts_in, task))
            if len(pending) > 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
