"""Saving a batch's events in one transaction, and knowing a save that went through although
its answer was lost."""

from __future__ import annotations

import logging

from eventsourcing.persistence import IntegrityError

from ledger.domain.events import LedgerEvent
from ledger.eventstore.application import LedgerStore
from ledger.service.writer.metrics import WriterMetrics

log = logging.getLogger("ledger.writer")


class Saver:
    """Saves events durably, timing each save."""

    def __init__(self, store: LedgerStore, metrics: WriterMetrics) -> None:
        self.store = store
        self.metrics = metrics

    def save(self, events: list[LedgerEvent]) -> dict[int, int]:
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
