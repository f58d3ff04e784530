"""The writer: the one path by which commands become stored events. Callers queue commands;
the writer thread (``loop``) takes them in batches that ``batch`` decides and saves in one
transaction, retrying on conflicts (``conflicts``) and taking snapshots (``snapshots``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future

from ledger.domain.commands import AnyCommand, Context
from ledger.domain.policy import Rules
from ledger.eventstore.application import LedgerStore
from ledger.service.writer.batch import BatchCommitter
from ledger.service.writer.loop import WriterThread
from ledger.service.writer.metrics import WriterMetrics
from ledger.service.writer.replies import Pending
from ledger.wire.shapes import WriteResult


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
        self.metrics = WriterMetrics()
        intervals = (snapshot_interval, moment_interval)
        self._batches = BatchCommitter(store, self.rules, intervals, self.metrics, self.listeners)
        self._thread = WriterThread(self._batches.commit, batch_max)

    @property
    def last_saved(self) -> int:
        """The position of the newest event this writer saved (noted before any answer)."""
        return self._batches.last_saved

    def submit(self, command: AnyCommand, context: Context) -> Future[WriteResult]:
        pending = Pending(command, context)
        self._thread.put(pending)
        assert isinstance(pending.future, Future)
        return pending.future

    def submit_async(self, command: AnyCommand, context: Context) -> asyncio.Future[WriteResult]:
        """Queue a command from an event loop. The outcomes of a batch reach their loop in one
        call, so that a batch costs its loop one wake-up rather than one per command."""
        pending = Pending(command, context, asyncio.get_running_loop())
        self._thread.put(pending)
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
        self._thread.close(timeout)
