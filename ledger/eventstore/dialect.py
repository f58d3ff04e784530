"""What differs between the event store's backends, for reading its events table directly."""

from __future__ import annotations

from typing import Any, cast

import msgspec

from ledger.eventstore.application import LedgerStore


class Dialect(msgspec.Struct, frozen=True):
    """What differs between the backends: the events table and its position column. Plain
    data, so that worker processes can be handed it."""

    sqlite: bool
    events: str
    position: str
    stream: str

    @classmethod
    def of(cls, store: LedgerStore) -> Dialect:
        recorder = cast(Any, store.recorder)
        if recorder.__class__.__module__.endswith("sqlite"):
            return cls(True, recorder.events_table_name, "rowid", "originator_id")
        table = f"{recorder.datastore.schema}.{recorder.events_table_name}"
        return cls(False, table, "notification_id", "replace(originator_id::text, '-', '')")

    def rows(self, where: str) -> str:
        """Events in position order: the row, the stream as 32 hex digits, the state."""
        return (
            f"SELECT {self.position}, {self.stream}, originator_version, topic, state"
            f" FROM {self.events} WHERE {where} ORDER BY {self.position}"
        )
