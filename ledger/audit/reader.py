"""Reading the log for the verifier: large batches over one connection (no round trip per
event), in one read-only snapshot. Statements are written once with $1, $2… placeholders."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol
from uuid import UUID

import asyncpg
import msgspec
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import JSONTranscoder, StoredEvent
from eventsourcing.utils import Environment, resolve_topic

from ledger.audit import sql
from ledger.audit.checkpointer import row_of
from ledger.audit.checks import Leaf, Row
from ledger.audit.messages import Checkpoint
from ledger.eventstore.backends import MsgspecMapper
from ledger.eventstore.dialect import Dialect
from ledger.settings import Settings
from ledger.sql.database import sqlite_dialect


class Snapshot(Protocol):
    """Queries (with $1, $2… placeholders) on one connection, in one read-only transaction."""

    def fetch(self, statement: str, *args: object) -> list[Any]:
        """The rows of a query, each a sequence of its columns."""


class LogReader:
    """Reads the log, its leaves and its checkpoints as of one moment."""

    def __init__(self, snapshot: Snapshot, dialect: Dialect) -> None:
        self._fetch = snapshot.fetch
        self._dialect = dialect

    def head(self) -> int:
        d = self._dialect
        return int(self._fetch(f"SELECT MAX({d.position}) FROM {d.events}")[0][0] or 0)

    def checkpoints(self) -> list[Checkpoint]:
        rows = self._fetch(sql.SELECT_CHECKPOINTS)
        return [row_of(dict(zip(sql.CHECKPOINT_FIELDS, r, strict=True))) for r in rows]

    def cosignatures(self) -> list[tuple[int, str]]:
        """Every stored cosignature: the tree size and the line."""
        return [(int(r[0]), str(r[2])) for r in self._fetch(sql.SELECT_COSIGNATURES)]

    def rows(self, after: int, limit: int, until: int) -> list[Row]:
        """Up to ``limit`` events after position ``after`` and at most ``until``, in order."""
        d = self._dialect
        where = f"{d.position} > $1 AND {d.position} <= $2"
        return self._fetch(d.rows(where) + " LIMIT $3", after, until, limit)

    def row_at(self, position: int) -> Row | None:
        """The event stored at ``position``, if any."""
        d = self._dialect
        found = self._fetch(d.rows(f"{d.position} = $1"), position)
        return tuple(found[0]) if found else None

    def leaves(self, start: int, limit: int) -> list[Leaf]:
        """Up to ``limit`` leaves from index ``start``: index, position, event hash."""
        statement = (
            f"SELECT leaf_index, position, event_hash FROM {sql.LEAVES}"
            " WHERE leaf_index >= $1 ORDER BY leaf_index LIMIT $2"
        )
        return self._fetch(statement, start, limit)


@contextmanager
def open_reader(settings: Settings, dialect: Dialect) -> Iterator[LogReader]:
    """A reader on a connection of its own, in one read-only transaction (one snapshot)."""
    snapshot = _sqlite_snapshot if dialect.sqlite else _postgres_snapshot
    with snapshot(settings) as opened:
        yield LogReader(opened, dialect)


class _SqliteSnapshot:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def fetch(self, statement: str, *args: object) -> list[Any]:
        return self._connection.execute(sqlite_dialect(statement), args).fetchall()


@contextmanager
def _sqlite_snapshot(settings: Settings) -> Iterator[Snapshot]:
    connection = sqlite3.connect(settings.sqlite_file, timeout=30)
    connection.isolation_level = None
    try:
        connection.execute("BEGIN")  # a read transaction: one snapshot of the WAL
        yield _SqliteSnapshot(connection)
        connection.execute("COMMIT")
    finally:
        connection.close()


INDEX_ORDER = "SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off"
"""Every read here walks an index in its order (positions, leaf indexes). With stale
statistics (a log just imported, before autovacuum's ANALYZE) PostgreSQL took a batch of
20,000 events for a few rows' worth and sorted the whole rest of the log for each batch:
402 ms a batch instead of 23 ms."""


class _PostgresSnapshot:
    """asyncpg (its rows cost a fraction of psycopg's) on an event loop of its own, in a
    thread of its own, so the verifier stays synchronous wherever it is called from."""

    def __init__(self, run: Callable[[Any], Any], connection: asyncpg.Connection) -> None:
        self._run = run
        self._connection = connection

    def fetch(self, statement: str, *args: object) -> list[Any]:
        rows: list[Any] = self._run(self._connection.fetch(statement, *args))
        return rows


@contextmanager
def _postgres_snapshot(settings: Settings) -> Iterator[Snapshot]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="ledger-verify-read", daemon=True)
    thread.start()

    def run(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    try:
        connection = run(asyncpg.connect(settings.database_url))
        try:
            transaction = connection.transaction(isolation="repeatable_read", readonly=True)
            run(transaction.start())
            run(connection.execute(INDEX_ORDER))
            yield _PostgresSnapshot(run, connection)
            run(transaction.rollback())
        finally:
            run(connection.close())
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


class EventDecoder:
    """Stored state → event, as the store's mapper does it, with a typed decoder per topic.
    Built from the settings alone (the cipher key), so a worker process can build its own."""

    def __init__(self, settings: Settings) -> None:
        cipher = None
        if settings.cipher_key:
            cipher = AESCipher(Environment(env={"CIPHER_KEY": settings.cipher_key}))
        self._mapper = MsgspecMapper(transcoder=JSONTranscoder(), cipher=cipher)
        self._decoders: dict[str, Callable[[bytes], Any]] = {}

    def __call__(self, topic: str) -> Callable[[bytes], Any]:
        """The decoder of one topic's stored states."""
        decoder = self._decoders.get(topic)
        if decoder is None:
            decoder = self._decoders[topic] = self._decoder_of(topic)
        return decoder

    def _decoder_of(self, topic: str) -> Callable[[bytes], Any]:
        cls = resolve_topic(topic)
        if self._mapper.cipher is None and getattr(cls, "class_version", 1) == 1:
            return msgspec.json.Decoder(cls).decode
        return lambda state: self._mapper.to_domain_event(_stored(topic, state))


def _stored(topic: str, state: bytes) -> StoredEvent:
    return StoredEvent(originator_id=UUID(int=0), originator_version=0, topic=topic, state=state)
