"""A tiny async database interface with two implementations: asyncpg and stdlib sqlite3.

Statements are written once, with asyncpg's ``$1, $2…`` placeholders; SQLite runs them as
numbered parameters (``?1, ?2…``). The backends differ in how they connect, never in logic.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import asyncpg

Row = dict[str, Any]
T = TypeVar("T")
BUSY_TIMEOUT_SECONDS = 30
_PLACEHOLDER = re.compile(r"\$(\d+)")
UNAVAILABLE: tuple[type[Exception], ...] = (
    ConnectionError,  # refused or reset: the server is away
    TimeoutError,
    asyncpg.PostgresConnectionError,  # e.g. the connection died in the middle of a query
    asyncpg.OperatorInterventionError,  # shutting down, crashed, or still starting up
    asyncpg.TooManyConnectionsError,
)
"""Errors of the views' database that mean "not reachable now": retry soon (the asyncpg pool
connects again on its next acquire)."""
TRANSIENT: tuple[type[Exception], ...] = (*UNAVAILABLE, sqlite3.OperationalError, OSError)
"""Errors that say nothing of the event being handled (the database is away, locked or out of
space): a follower retries the same event, never passes it over."""


class Connection(Protocol):
    """Statements run on one connection (inside a transaction, when it has one)."""

    async def execute(self, sql: str, *args: object) -> int:
        """Run a statement; return the number of rows it changed."""

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        """Run a statement once for each row of arguments."""

    async def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:
        """Insert rows into a table: PostgreSQL's COPY, a bulk path for large batches."""

    async def fetch(self, sql: str, *args: object) -> list[Row]:
        """Rows of a query, each a dict of column name to value."""

    async def fetchrow(self, sql: str, *args: object) -> Row | None:
        """The first row of a query, or None."""


class Database(Connection, Protocol):
    """A pool of connections: single statements, transactions, and closing."""

    backend: str

    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """A connection in a transaction, committed when the block ends without an error."""

    async def close(self) -> None:
        """Close every connection."""


class PostgresConnection:
    """An asyncpg connection."""

    def __init__(self, conn: asyncpg.pool.PoolConnectionProxy[asyncpg.Record]) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: object) -> int:
        status = await self._conn.execute(sql, *args)
        last = status.rpartition(" ")[2]
        return int(last) if last.isdigit() else 0

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        await self._conn.executemany(sql, rows)

    async def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:
        await self._conn.copy_records_to_table(table, records=rows, columns=columns)

    async def fetch(self, sql: str, *args: object) -> list[Row]:
        return [dict(record) for record in await self._conn.fetch(sql, *args)]

    async def fetchrow(self, sql: str, *args: object) -> Row | None:
        record = await self._conn.fetchrow(sql, *args)
        return None if record is None else dict(record)


class _BatchesInTransaction(ABC):
    """Writes of many rows, each batch in one transaction: the same on both backends."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """A connection in a transaction, committed when the block ends without an error."""

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    async def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:
        async with self.transaction() as conn:
            await conn.insert_many(table, columns, rows)


class PostgresDatabase(_BatchesInTransaction):
    """Views in PostgreSQL, through an asyncpg pool."""

    backend = "postgres"

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str, *, max_size: int = 8) -> PostgresDatabase:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=max_size)
        return cls(pool)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[PostgresConnection]:
        async with self._pool.acquire() as conn:
            yield PostgresConnection(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield PostgresConnection(conn)

    async def execute(self, sql: str, *args: object) -> int:
        async with self.connection() as conn:
            return await conn.execute(sql, *args)

    async def fetch(self, sql: str, *args: object) -> list[Row]:
        async with self.connection() as conn:
            return await conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: object) -> Row | None:
        async with self.connection() as conn:
            return await conn.fetchrow(sql, *args)

    async def close(self) -> None:
        await self._pool.close()


@lru_cache(maxsize=512)
def sqlite_dialect(sql: str) -> str:
    """The statement with asyncpg placeholders ($1) as SQLite numbered parameters (?1)."""
    return _PLACEHOLDER.sub(r"?\1", sql)


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class SqliteConnection:
    """One sqlite3 connection, used only from its own thread, with async methods."""

    def __init__(self, path: Path, name: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        self._conn = await self._run(self._connect)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        conn.row_factory = _dict_row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        return conn

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the SQLite connection is not open")
        return self._conn

    async def execute(self, sql: str, *args: object) -> int:
        return await self._run(lambda: self._db().execute(sqlite_dialect(sql), args).rowcount)

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        await self._run(lambda: self._db().executemany(sqlite_dialect(sql), rows))

    async def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:
        marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        await self.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    async def fetch(self, sql: str, *args: object) -> list[Row]:
        return await self._run(lambda: self._db().execute(sqlite_dialect(sql), args).fetchall())

    async def fetchrow(self, sql: str, *args: object) -> Row | None:
        return await self._run(lambda: self._db().execute(sqlite_dialect(sql), args).fetchone())

    async def rollback(self) -> None:
        """End the open transaction, if any, without its changes."""
        await self._run(lambda: self._db().rollback())

    async def close(self) -> None:
        if self._conn is not None:
            await self._run(self._conn.close)
            self._conn = None
        self._executor.shutdown(wait=True)


class SqliteDatabase(_BatchesInTransaction):
    """Views in the events' SQLite file: one connection writes, another reads (WAL)."""

    backend = "sqlite"

    def __init__(self, writer: SqliteConnection, reader: SqliteConnection) -> None:
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = SqliteConnection(path, "ledger-views-write")
        reader = SqliteConnection(path, "ledger-views-read")
        await writer.open()
        await reader.open()
        return cls(writer, reader)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._write_lock:
            # IMMEDIATE takes the write lock up front: a deferred transaction that reads and
            # then writes could fail with SQLITE_BUSY without waiting for the busy timeout.
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
                await self._writer.execute("COMMIT")
            except BaseException:
                await self._writer.rollback()
                raise

    async def execute(self, sql: str, *args: object) -> int:
        async with self.transaction() as conn:
            return await conn.execute(sql, *args)

    async def fetch(self, sql: str, *args: object) -> list[Row]:
        return await self._reader.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: object) -> Row | None:
        return await self._reader.fetchrow(sql, *args)

    async def close(self) -> None:
        await self._writer.close()
        await self._reader.close()


SCHEMA_LOCK_KEY = 7204611553


async def create_schema(database: Database, statements: Iterable[str]) -> None:
    """Run DDL in one transaction; on PostgreSQL one process at a time (replicas may start
    together, and CREATE … IF NOT EXISTS alone can still fail on a race there)."""
    async with database.transaction() as conn:
        if database.backend == "postgres":
            await conn.execute(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})")
        for statement in statements:
            await conn.execute(statement)
