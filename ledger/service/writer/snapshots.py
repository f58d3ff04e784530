"""Snapshots the writer saves after a batch: the moments its commands took, and whole
environments and runtimes that crossed a multiple of the snapshot interval."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.domain.model import Environment, snapshot_of
from ledger.domain.runtime import Runtime
from ledger.eventstore.application import LedgerStore
from ledger.service.session import Session
from ledger.service.writer.cache import StreamCache


class Snapshots:
    """Saves the snapshots of a saved batch."""

    def __init__(self, store: LedgerStore, cache: StreamCache) -> None:
        self.store = store
        self.cache = cache

    def take(self, session: Session) -> None:
        """Save the moments the batch took and snapshot whole the environments that crossed a
        multiple of the interval (once a batch, however many times they crossed)."""
        assert self.store.snapshots is not None
        now = datetime.now(UTC)
        crossed = (self.cache.get(stream_id) for stream_id in session.crossed)
        whole = [snapshot_of(s, now) for s in crossed if isinstance(s, Environment | Runtime)]
        if whole or session.snapshots:
            self.store.snapshots.put(session.snapshots + whole)
