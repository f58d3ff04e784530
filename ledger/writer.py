"""Group commit: one writer thread decides queued commands in batches and saves each batch in
one transaction, so concurrent requests share a durable commit. A conflict with another writer
(another replica) reloads the streams and re-decides each command of the batch on its own."""

from __future__ import annotations

import asyncio
import logging
import queue
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from prometheus_client import Counter, Histogram
from prometheus_client.metrics_core import Metric

from ledger.application import LedgerStore
from ledger.domain.commands import AnyCommand, Context
from ledger.domain.errors import DomainError
from ledger.domain.model import Environment, Stream, snapshot_of
from ledger.domain.policy import Rules
from ledger.handlers import Decided, FlushFirst, Session, handle
from ledger.schemas import WriteResult

log = logging.getLogger("ledger.writer")
CACHE_SIZE = 10_000
CONFLICT_RETRIES = 20


class WriterMetrics:
    """What the writer measures, kept out of any registry until a server exposes it."""

    def __init__(self) -> None:
        self.commit_seconds = Histogram(
            "ledger_commit_seconds", "Time to durably save one group-commit batch", registry=None
        )
        self.batch_commands = Histogram(
            "ledger_group_commit_commands",
            "Commands saved per group-commit transaction",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=None,
        )
        self.events = Counter("ledger_events_appended", "Events appended", registry=None)
        self.conflicts = Counter(
            "ledger_commit_conflicts", "Batches re-decided after a version conflict", registry=None
        )
        self.failed_commits = Counter(
            "ledger_commit_failures", "Batches the store failed to save", registry=None
        )

    def collect(self) -> list[Metric]:
        return [
            m
            for c in (
                self.commit_seconds,
                self.batch_commands,
                self.events,
                self.conflicts,
                self.failed_commits,
            )
            for m in c.collect()
        ]


class Pending:
    __slots__ = ("command", "context", "future")

    def __init__(self, command: AnyCommand, context: Context) -> None:
        self.command = command
        self.context = context
        self.future: Future[WriteResult] = Future()


class Writer:
    """The one path by which commands become stored events."""

    def __init__(
        self,
        store: LedgerStore,
        *,
        batch_max: int = 256,
        snapshot_interval: int = 200,
        rules: Rules | None = None,
    ) -> None:
        self.store = store
        self.rules = rules or Rules()
        self.batch_max = batch_max
        self.snapshot_interval = snapshot_interval
        self.listeners: list[Callable[[int], None]] = []
        self.metrics = WriterMetrics()
        self._queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self._cache: OrderedDict[UUID, Stream] = OrderedDict()
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._thread.start()

    def submit(self, command: AnyCommand, context: Context) -> Future[WriteResult]:
        pending = Pending(command, context)
        self._queue.put(pending)
        return pending.future

    def execute(self, command: AnyCommand, context: Context) -> WriteResult:
        """Run a command and wait until its events are durably stored."""
        return self.submit(command, context).result()

    async def run(self, command: AnyCommand, context: Context) -> WriteResult:
        return await asyncio.wrap_future(self.submit(command, context))

    def close(self) -> None:
        """Finish the queued commands, then stop the writer thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.batch_max:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            try:
                self._process(batch)
            except Exception as error:  # the writer thread must outlive any one batch
                log.exception("batch failed")
                self._cache.clear()
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(error)

    def _process(self, batch: list[Pending], attempt: int = 0) -> None:
        session = Session(self.store, self._cache, self.rules)
        decided: list[tuple[Pending, Decided]] = []
        for pending in batch:
            try:
                try:
                    result = self._decide(session, pending)
                except FlushFirst:
                    self._commit(session, decided, attempt)
                    session, decided = Session(self.store, self._cache, self.rules), []
                    result = self._decide(session, pending)
            except DomainError as error:
                pending.future.set_exception(error)
                continue
            except Exception as error:
                log.exception("command failed", extra={"command": type(pending.command).__name__})
                pending.future.set_exception(error)
                continue
            decided.append((pending, result))
        self._commit(session, decided, attempt)

    @staticmethod
    def _decide(session: Session, pending: Pending) -> Decided:
        now = datetime.now(UTC)
        return handle(session, pending.command, pending.context, now)

    def _commit(
        self, session: Session, decided: list[tuple[Pending, Decided]], attempt: int
    ) -> None:
        positions: dict[int, int] = {}
        if session.pending:
            try:
                with self.metrics.commit_seconds.time():
                    recordings = self.store.save(*session.pending)
            except Exception as error:
                self._forget(session.touched)
                self.metrics.failed_commits.inc()
                self._after_failed_save(error, decided, attempt)
                return
            self.metrics.batch_commands.observe(len(decided))
            self.metrics.events.inc(len(session.pending))
            positions = {id(r.domain_event): r.notification.id for r in recordings}
        self._trim_cache()
        for pending, result in decided:
            self._answer(pending, result, positions)
        if positions:
            self._take_snapshots(session)
            head = max(positions.values())
            for listener in self.listeners:
                listener(head)

    def _after_failed_save(
        self, error: Exception, decided: list[tuple[Pending, Decided]], attempt: int
    ) -> None:
        if isinstance(error, IntegrityError) and attempt < CONFLICT_RETRIES:
            self.metrics.conflicts.inc()
            # another writer won the race; a short random pause keeps two from racing in step
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
            for pending, _ in decided:  # re-decide each alone on fresh state
                self._process([pending], attempt + 1)
            return
        log.error("save failed", exc_info=error)
        for pending, _ in decided:
            pending.future.set_exception(error)

    def _answer(self, pending: Pending, decided: Decided, positions: dict[int, int]) -> None:
        if decided.refusal is not None:
            pending.future.set_exception(decided.refusal)
            return
        result = decided.result
        if decided.events:
            result.position = max(positions[id(e)] for e in decided.events)
        elif decided.replay_of is not None:
            ref = decided.replay_of
            result.position = self.store.position_of(ref.originator_id, ref.originator_version) or 0
        pending.future.set_result(result)

    def _forget(self, stream_ids: set[UUID]) -> None:
        for stream_id in stream_ids:
            self._cache.pop(stream_id, None)

    def _trim_cache(self) -> None:
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _take_snapshots(self, session: Session) -> None:
        """Snapshot environments whose streams crossed a multiple of the interval."""
        assert self.store.snapshots is not None
        crossed = {
            e.originator_id
            for e in session.pending
            if e.originator_version % self.snapshot_interval == 0
        }
        for stream_id in crossed:
            state = self._cache.get(stream_id)
            if isinstance(state, Environment):
                self.store.snapshots.put([snapshot_of(state, datetime.now(UTC))])
