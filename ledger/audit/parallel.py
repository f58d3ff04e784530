"""Decoding, hashing and checking the log in worker processes: the costly part of verifying,
spread over cores. Each worker reads its own range of positions and checks it as a batch (no
event crosses a process boundary, only the batch's digests, leaves and stream ends); the main
process takes the batches in log order."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from ledger.audit.checks import Batch, checked, facts_of
from ledger.audit.reader import EventDecoder, open_reader
from ledger.eventstore.dialect import Dialect
from ledger.settings import Settings

Task = tuple[Settings, Dialect, int, int]
"""The settings, the dialect, and the positions to read: after, until (inclusive)."""

_decoders: dict[str | None, EventDecoder] = {}


def batch_in(task: Task) -> Batch:
    """In a worker: read the events of a range of positions, decode, hash and check them."""
    settings, dialect, after, until = task
    decode = _decoders.get(settings.cipher_key)
    if decode is None:
        decode = _decoders[settings.cipher_key] = EventDecoder(settings)
    with open_reader(settings, dialect) as reader:
        rows = reader.rows(after, until - after, until)
    return checked(facts_of(rows, decode))


def parallel_batches(
    settings: Settings, dialect: Dialect, head: int, jobs: int, batch: int
) -> Iterator[Batch]:
    """Positions 1..head checked batch by batch, in order, by ``jobs`` workers, with a few
    batches in flight (so memory stays bounded whoever is faster)."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        pending: deque[Future[Batch]] = deque()
        for after in range(0, head, batch):
            task = (settings, dialect, after, min(after + batch, head))
            pending.append(pool.submit(batch_in, task))
            if len(pending) > 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
