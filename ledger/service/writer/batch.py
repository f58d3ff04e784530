"""One batch of commands: decided in one session, their events saved in one transaction,
each command answered with the position of its events (or its refusal)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from ledger.domain.errors import DomainError
from ledger.domain.policy import Rules
from ledger.eventstore.application import LedgerStore
from ledger.service.session import Decided, FlushFirst, Session
from ledger.service.unit_of_work import handle
from ledger.service.writer.cache import StreamCache
from ledger.service.writer.conflicts import Conflicts
from ledger.service.writer.metrics import WriterMetrics
from ledger.service.writer.replies import Pending, Replies
from ledger.service.writer.saving import Saver
from ledger.service.writer.snapshots import Snapshots

log = logging.getLogger("ledger.writer")
Decisions = list[tuple[Pending, Decided]]


class BatchCommitter:
    """Decides the commands of a batch and commits them together."""

    def __init__(
        self,
        store: LedgerStore,
        rules: Rules,
        intervals: tuple[int, int],
        metrics: WriterMetrics,
        listeners: list[Callable[[int], None]],
    ) -> None:
        self.store, self.rules, self.intervals = store, rules, intervals
        self.metrics, self.listeners = metrics, listeners
        self.cache = StreamCache()
        self.replies = Replies()
        self.saver = Saver(store, metrics)
        self.conflicts = Conflicts(metrics)
        self.snapshots = Snapshots(store, self.cache)
        self.last_saved = 0  # the position of the newest event saved

    def commit(self, batch: list[Pending]) -> None:
        """Decide, save and answer a batch; a failure of the whole batch answers each command
        with it (the writer thread must outlive any one batch)."""
        try:
            self._process(batch)
        except Exception as error:
            log.exception("batch failed")
            self.cache.clear()
            for pending in batch:
                self.replies.reply(pending, error)
        finally:
            self.replies.deliver()

    def _process(self, batch: list[Pending], attempt: int = 0) -> None:
        session = self._session()
        decided: Decisions = []
        for pending in batch:
            try:
                try:
                    result = self._decide(session, pending)
                except FlushFirst:
                    self._commit(session, decided, attempt)
                    session, decided = self._session(), []
                    result = self._decide(session, pending)
            except DomainError as error:
                self.replies.reply(pending, error)
                continue
            except Exception as error:
                log.exception("command failed", extra={"command": type(pending.command).__name__})
                self.replies.reply(pending, error)
                continue
            decided.append((pending, result))
        self._commit(session, decided, attempt)

    def _session(self) -> Session:
        return Session(self.store, self.cache, self.rules, self.intervals)

    @staticmethod
    def _decide(session: Session, pending: Pending) -> Decided:
        now = datetime.now(UTC)
        return handle(session, pending.command, pending.context, now)

    def _commit(self, session: Session, decided: Decisions, attempt: int) -> None:
        positions: dict[int, int] = {}
        if session.pending:
            try:
                positions = self.saver.save(session.pending)
            except Exception as error:
                self.cache.forget(session.touched)
                self.metrics.failed_commits.inc()
                self._after_failed_save(error, decided, attempt)
                return
            self.metrics.batch_commands.observe(len(decided))
            self.metrics.events.inc(len(session.pending))
            self.last_saved = max(self.last_saved, *positions.values())  # before any answer
        self.cache.trim()
        for pending, result in decided:
            self._answer(pending, result, positions)
        if positions:
            self.snapshots.take(session)
            head = max(positions.values())
            for listener in self.listeners:
                listener(head)

    def _after_failed_save(self, error: Exception, decided: Decisions, attempt: int) -> None:
        if self.conflicts.retried(error, attempt):
            for pending, _ in decided:  # re-decide each alone on fresh state
                self._process([pending], attempt + 1)
            return
        log.error("save failed", exc_info=error)
        for pending, _ in decided:
            self.replies.reply(pending, error)

    def _answer(self, pending: Pending, decided: Decided, positions: dict[int, int]) -> None:
        if decided.refusal is not None:
            self.replies.reply(pending, decided.refusal)
            return
        result = decided.result
        if decided.events:
            result.position = max(positions[id(e)] for e in decided.events)
        elif decided.replay_of is not None:
            ref = decided.replay_of
            result.position = self.store.position_of(ref.originator_id, ref.originator_version) or 0
        self.replies.reply(pending, result)
