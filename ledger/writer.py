"""Group commit: one writer thread decides queued commands in batches and saves each batch in
one transaction, so concurrent requests share a durable commit. A conflict with another writer
(another replica) reloads the streams and re-decides each command of the batch on its own."""

from __future__ import annotations

import asyncio
import contextlib
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
from ledger.domain.events import LedgerEvent
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


Outcome = WriteResult | BaseException
Answer = Future[WriteResult] | asyncio.Future[WriteResult]


class Pending:
    """A queued command, and the future its outcome goes to: a thread's, or an event loop's."""

    __slots__ = ("answered", "command", "context", "future", "loop")

    def __init__(
        self, command: AnyCommand, context: Context, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        self.command = command
        self.context = context
        self.loop = loop
        self.future: Answer = Future() if loop is None else loop.create_future()
        self.answered = False


def _settle(future: Answer, outcome: Outcome) -> None:
    if future.done():  # an event loop's caller may have given up (cancelled)
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _settle_all(answers: list[tuple[Answer, Outcome]]) -> None:
    for future, outcome in answers:
        _settle(future, outcome)


class Writer:
    """The one path by which commands become stored events."""

    def __init__(
        self,
        store: LedgerStore,
        *,
        batch_max: int = 256,
        snapshot_interval: int = 200,
        moment_interval: int = 50,
        rules: Rules | None = None,
    ) -> None:
        self.store = store
        self.rules = rules or Rules()
        self.batch_max = batch_max
        self.snapshot_interval = snapshot_interval
        self.moment_interval = moment_interval
        self.listeners: list[Callable[[int], None]] = []
        self.last_saved = 0  # the position of the newest event this writer saved
        self.metrics = WriterMetrics()
        self._queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self._cache: OrderedDict[UUID, Stream] = OrderedDict()
        self._outbox: dict[asyncio.AbstractEventLoop, list[tuple[Answer, Outcome]]] = {}
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._thread.start()

    def submit(self, command: AnyCommand, context: Context) -> Future[WriteResult]:
        pending = Pending(command, context)
        self._queue.put(pending)
        assert isinstance(pending.future, Future)
        return pending.future

    def submit_async(self, command: AnyCommand, context: Context) -> asyncio.Future[WriteResult]:
        """Queue a command from an event loop. The outcomes of a batch reach their loop in one
        call, so that a batch costs its loop one wake-up rather than one per command."""
        pending = Pending(command, context, asyncio.get_running_loop())
        self._queue.put(pending)
        assert isinstance(pending.future, asyncio.Future)
        return pending.future

    def execute(self, command: AnyCommand, context: Context) -> WriteResult:
        """Run a command and wait until its events are durably stored."""
        return self.submit(command, context).result()

    async def run(self, command: AnyCommand, context: Context) -> WriteResult:
        return await self.submit_async(command, context)

    def close(self, timeout: float | None = None) -> None:
        """Finish the queued commands, then stop the writer thread (waiting at most
        ``timeout`` seconds: the thread is a daemon, it never holds the process up)."""
        self._queue.put(None)
        self._thread.join(timeout)

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
                    self._reply(pending, error)
            finally:
                self._deliver()

    def _process(self, batch: list[Pending], attempt: int = 0) -> None:
        session = self._session()
        decided: list[tuple[Pending, Decided]] = []
        for pending in batch:
            try:
                try:
                    result = self._decide(session, pending)
                except FlushFirst:
                    self._commit(session, decided, attempt)
                    session, decided = self._session(), []
                    result = self._decide(session, pending)
            except DomainError as error:
                self._reply(pending, error)
                continue
            except Exception as error:
                log.exception("command failed", extra={"command": type(pending.command).__name__})
                self._reply(pending, error)
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
                positions = self._save(session.pending)
            except Exception as error:
                self._forget(session.touched)
                self.metrics.failed_commits.inc()
                self._after_failed_save(error, decided, attempt)
                return
            self.metrics.batch_commands.observe(len(decided))
            self.metrics.events.inc(len(session.pending))
            self.last_saved = max(self.last_saved, *positions.values())  # before any answer
        self._trim_cache()
        for pending, result in decided:
            self._answer(pending, result, positions)
        if positions:
            self._take_snapshots(session)
            head = max(positions.values())
            for listener in self.listeners:
                listener(head)

    def _save(self, events: list[LedgerEvent]) -> dict[int, int]:
        """Save a batch in one transaction; returns each event's position, by ``id(event)``."""
        try:
            with self.metrics.commit_seconds.time():
                recordings = self.store.events.put(events)
        except IntegrityError:
            if not self._saved_already(events[0]):
                raise
            # eventsourcing retries a save whose connection broke; when the commit had gone
            # through, the retry conflicts with this very batch: it is saved, answer so.
            log.warning("a save whose answer was lost had gone through; answering it")
            return {id(e): self.store.position_of(e.originator_id, e.originator_version) or 0
                    for e in events}  # fmt: skip
        return {id(r.domain_event): r.notification.id for r in recordings}

    def _saved_already(self, event: LedgerEvent) -> bool:
        """Whether the store holds this very event (the same event id at its version)."""
        stored = self.store.recorder.select_events(
            event.originator_id, gt=event.originator_version - 1, lte=event.originator_version
        )
        found = self.store.mapper.to_domain_event(stored[0]) if stored else None
        return isinstance(found, LedgerEvent) and found.event_id == event.event_id

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
            self._reply(pending, error)

    def _answer(self, pending: Pending, decided: Decided, positions: dict[int, int]) -> None:
        if decided.refusal is not None:
            self._reply(pending, decided.refusal)
            return
        result = decided.result
        if decided.events:
            result.position = max(positions[id(e)] for e in decided.events)
        elif decided.replay_of is not None:
            ref = decided.replay_of
            result.position = self.store.position_of(ref.originator_id, ref.originator_version) or 0
        self._reply(pending, result)

    def _reply(self, pending: Pending, outcome: Outcome) -> None:
        """Answer a command once: a thread's future now, an event loop's with its batch."""
        if pending.answered:
            return
        pending.answered = True
        if pending.loop is None:
            _settle(pending.future, outcome)
        else:
            self._outbox.setdefault(pending.loop, []).append((pending.future, outcome))

    def _deliver(self) -> None:
        """Hand each event loop the outcomes of its commands, in one call."""
        outbox, self._outbox = self._outbox, {}
        for loop, answers in outbox.items():
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_settle_all, answers)

    def _forget(self, stream_ids: set[UUID]) -> None:
        for stream_id in stream_ids:
            self._cache.pop(stream_id, None)

    def _trim_cache(self) -> None:
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _session(self) -> Session:
        intervals = (self.snapshot_interval, self.moment_interval)
        return Session(self.store, self._cache, self.rules, intervals)

    def _take_snapshots(self, session: Session) -> None:
        """Save the moments the batch took and snapshot whole the environments that crossed a
        multiple of the interval (once a batch, however many times they crossed)."""
        assert self.store.snapshots is not None
        now = datetime.now(UTC)
        crossed = (self._cache.get(stream_id) for stream_id in session.crossed)
        whole = [snapshot_of(s, now) for s in crossed if isinstance(s, Environment)]
        if whole or session.snapshots:
            self.store.snapshots.put(session.snapshots + whole)
