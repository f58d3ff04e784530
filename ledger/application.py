"""The eventsourcing Application: the event store, the repository and the notification log."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import JSONTranscoder, Mapper

from ledger.domain.model import Stream, fold
from ledger.settings import Settings
from ledger.store import MsgspecMapper, eventsourcing_env, position_of, schema_lock, version_at


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

    def position_of(self, stream_id: UUID, version: int) -> int | None:
        return position_of(self.recorder, stream_id, version)

    def version_at(self, stream_id: UUID, position: int, latest: int) -> int | None:
        """The stream's version as it was at a global position (None: no event of it yet),
        given its ``latest`` version."""
        return version_at(self.recorder, stream_id, position, latest)

    def head(self) -> int:
        """The position of the newest event in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0
