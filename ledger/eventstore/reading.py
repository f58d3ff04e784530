"""Reading the stored past in one read transaction: a stream's moment at a version (its newest
moment snapshot at or below it, then its events up to it), where an event is in the log, and a
stream's last event at a position. One connection and no commit for all of a request's reads;
the backends differ only in SQL dialect."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from ledger.domain.model import Environment, evolve
from ledger.domain.moments import Moment, moment_from, moment_id, moment_of, replay
from ledger.domain.names import MAX_VERSION

VERSION_AT = (
    "SELECT originator_version AS version FROM {events} WHERE {position}={p} AND originator_id={p}"
)
POSITION_OF = (
    "SELECT {position} AS found FROM {events} WHERE originator_id={p} AND originator_version={p}"
)
SNAPSHOT = (
    "SELECT originator_version AS version, topic, state FROM {snapshots} "
    "WHERE originator_id={p} AND originator_version<={p} ORDER BY originator_version DESC LIMIT 1"
)
EVENTS = (
    "SELECT originator_version AS version, topic, state FROM {events} WHERE originator_id={p} "
    "AND originator_version>{p} AND originator_version<={p} ORDER BY originator_version"
)
MOMENT = (
    "SELECT 0 AS kind, version, topic, state FROM ("
    + SNAPSHOT
    + ") AS newest"
    + """
UNION ALL
SELECT 1 AS kind, originator_version AS version, topic, state FROM {events}
WHERE originator_id={p} AND originator_version<={p} AND originator_version>(
    SELECT max(originator_version) FROM {snapshots}
    WHERE originator_id={p} AND originator_version<={p}
)
ORDER BY kind, version
"""
)
"""A stream's newest moment snapshot at or below a version and its events after it up to the
version, in one statement; nothing when it has no moment snapshot there."""
MIDDLE = (  # the position of the version halfway (SQLite allows no subquery in FROM here)
    "(SELECT {position} FROM {events} WHERE originator_id={p} "
    "AND originator_version=(low + high) / 2)"
)
LAST_AT = """
WITH RECURSIVE search(low, high) AS (
    SELECT CAST(1 AS BIGINT), (SELECT max(originator_version) FROM {events} WHERE originator_id={p})
    UNION ALL
    SELECT CASE WHEN {middle} <= {p} THEN (low + high) / 2 + 1 ELSE low END,
           CASE WHEN {middle} <= {p} THEN high ELSE (low + high) / 2 - 1 END
    FROM search WHERE low <= high
)
SELECT (SELECT {position} FROM {events} WHERE originator_id={p} AND originator_version=v) AS found,
    v AS version
FROM (SELECT min(high) AS v FROM search) AS answer
""".replace("{middle}", MIDDLE)


class Reading:
    """Reads on one cursor of a read transaction (see ``reading``)."""

    def __init__(
        self,
        cursor: Any,
        sql: Callable[[str], str],
        key: Callable[[UUID], object],
        mapper: Mapper[UUID],
        binary: bool,
    ) -> None:
        self.cursor, self.sql, self.key, self.mapper = cursor, sql, key, mapper
        self.binary = binary

    def moment(self, stream_id: UUID, version: int | None = None) -> Moment | None:
        """An environment's moment (at a version, else now); None when it had no events."""
        bound = MAX_VERSION if version is None else version
        moments_id = moment_id(stream_id)
        stream, moments = self.key(stream_id), self.key(moments_id)
        rows = self._rows(MOMENT, moments, bound, stream, bound, moments, bound)
        start: Moment | None
        if rows:
            start = moment_from(self._decoded(moments_id, rows[0]))
            events = rows[1:]
        else:  # a stream snapshotted before moments were: its newest whole snapshot, trimmed
            start = self._whole(stream_id, bound)
            after = start.state.version if start else 0
            events = self._rows(EVENTS, stream, after, bound)
        return replay(start, (self._decoded(stream_id, row) for row in events))

    def position_of(self, stream_id: UUID, version: int) -> int | None:
        """The global position of one stored event."""
        rows = self._rows(POSITION_OF, self.key(stream_id), version)
        return int(rows[0]["found"]) if rows else None

    def last_at(self, stream_id: UUID, position: int) -> tuple[int, int] | None:
        """The version and position of a stream's last event at or before a global position
        (None: the stream had no event yet).

        Within a stream positions grow with versions (commit order is notification order),
        and versions run 1..n without gaps: a binary search over them, one primary-key lookup
        a step, in one statement (17 steps in a stream of 100,000 events). A position of
        the stream's own (as ``?at=`` finds in the history) is one lookup."""
        stream = self.key(stream_id)
        exact = self._rows(VERSION_AT, position, stream)
        if exact:
            return int(exact[0]["version"]), position
        rows = self._rows(LAST_AT, stream, stream, position, stream, position, stream)
        if not rows or rows[0]["found"] is None:
            return None
        return int(rows[0]["version"]), int(rows[0]["found"])

    def _whole(self, stream_id: UUID, bound: int) -> Moment | None:
        rows = self._rows(SNAPSHOT, self.key(stream_id), bound)
        state = evolve(None, self._decoded(stream_id, rows[0])) if rows else None
        return moment_of(state) if isinstance(state, Environment) else None

    def _rows(self, template: str, *args: object) -> list[Any]:
        if self.binary:  # PostgreSQL's binary results: bytea as bytes, not as hex text
            self.cursor.execute(self.sql(template), args, binary=True)
        else:
            self.cursor.execute(self.sql(template), args)
        return list(self.cursor.fetchall())

    def _decoded(self, stream_id: UUID, row: Any) -> Any:
        stored = StoredEvent(
            originator_id=stream_id,
            originator_version=int(row["version"]),
            topic=row["topic"],
            state=bytes(row["state"]),
        )
        return self.mapper.to_domain_event(stored)


@contextmanager
def reading(recorder: Any, snapshots: Any, mapper: Mapper[UUID]) -> Iterator[Reading]:
    """A read transaction on the event store (``recorder``, and the ``snapshots`` recorder
    of the same database)."""
    events, snaps = recorder.events_table_name, snapshots.events_table_name
    sqlite = recorder.__class__.__module__.endswith("sqlite")
    if sqlite:

        def sql(template: str) -> str:
            return template.format(events=events, snapshots=snaps, position="rowid", p="?")

        def key(originator_id: UUID) -> object:
            return originator_id.hex

    else:
        schema = recorder.datastore.schema

        def sql(template: str) -> str:
            return template.format(
                events=f"{schema}.{events}",
                snapshots=f"{schema}.{snaps}",
                position="notification_id",
                p="%s",
            )

        def key(originator_id: UUID) -> object:
            return originator_id

    with recorder.datastore.transaction(commit=False) as cursor:
        yield Reading(cursor, sql, key, mapper, binary=not sqlite)
