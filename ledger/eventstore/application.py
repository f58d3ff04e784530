"""The eventsourcing Application: the event store, the repository and the notification log."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import JSONTranscoder, Mapper

from ledger.domain.events import LedgerEvent
from ledger.domain.model import Stream, fold
from ledger.domain.moments import Moment
from ledger.eventstore.backends import MsgspecMapper, eventsourcing_env, schema_lock
from ledger.eventstore.reading import Reading, reading
from ledger.settings import Settings


class LedgerStore(Application[UUID]):
    """Streams of the ledger stored with eventsourcing; one instance per process."""

    name = "Ledger"

    def __init__(self, settings: Settings) -> None:
        with schema_lock(settings.database_url):
            super().__init__(env=eventsourcing_env(settings))
        self.settings = settings

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=JSONTranscoder(), mapper_class=MsgspecMapper)

    def load(self, stream_id: UUID, version: int | None = None) -> Stream | None:
        """A stream's state (optionally as it was at a version), or None when it has no events."""
        try:
            state: Any = self.repository.get(stream_id, version=version, projector_func=fold)
        except AggregateNotFoundError:
            return None
        return state  # type: ignore[no-any-return]

    def reading(self) -> AbstractContextManager[Reading]:
        """A read transaction for several reads of the past (``ledger.eventstore.reading``)."""
        assert self.snapshots is not None, "snapshotting is always enabled"
        return reading(self.recorder, self.snapshots.recorder, self.mapper)

    def moment(self, stream_id: UUID, version: int | None = None) -> Moment | None:
        """An environment's moment (at a version, else now); None when it has no events."""
        with self.reading() as read:
            return read.moment(stream_id, version)

    def position_of(self, stream_id: UUID, version: int) -> int | None:
        with self.reading() as read:
            return read.position_of(stream_id, version)

    def head(self) -> int:
        """The position of the newest event in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def read(self, after: int, limit: int) -> list[tuple[int, LedgerEvent]]:
        """The log as its followers read it (``read_batch``)."""
        return read_batch(self, after, limit)


def read_batch(store: LedgerStore, start: int, limit: int) -> list[tuple[int, LedgerEvent]]:
    """The events after position ``start``, decoded; ids may have gaps, never wait for one."""
    batch: list[tuple[int, LedgerEvent]] = []
    for notification in store.recorder.select_notifications(start, limit, inclusive_of_start=False):
        event = store.mapper.to_domain_event(notification)
        if not isinstance(event, LedgerEvent):
            raise TypeError(f"notification {notification.id} is not a ledger event")
        batch.append((notification.id, event))
    return batch
