"""The composition of the read side: open the views' database, runner and queries together."""

from __future__ import annotations

import secrets

from ledger.application import LedgerStore
from ledger.domain.secrets import use_fingerprint_key
from ledger.settings import Settings
from ledger.store import EVENTS_FILE
from projections import sql
from projections.database import Database, PostgresDatabase, SqliteDatabase
from projections.queries import Queries
from projections.runner import ProjectionRunner
from projections.store import ViewStore


class Views:
    """The read side of one process: the views' database, their runner and the queries."""

    def __init__(self, database: Database, runner: ProjectionRunner, queries: Queries) -> None:
        self.database = database
        self.runner = runner
        self.queries = queries

    async def wait_for(self, position: int, timeout: float) -> bool:
        """Wait (at most ``timeout`` seconds) until the views include ``position``."""
        return await self.runner.wait_for(position, timeout)

    async def close(self) -> None:
        """Stop the runner after its current batch, then close the database."""
        await self.runner.stop()
        await self.database.close()


async def open_database(settings: Settings) -> Database:
    """The views' database: the events' PostgreSQL database, else the events' SQLite file."""
    if settings.database_url is not None:
        return await PostgresDatabase.open(settings.database_url)
    return await SqliteDatabase.open(settings.data_dir / EVENTS_FILE)


async def open_views(settings: Settings, store: LedgerStore) -> Views:
    """Open the views, creating their tables when missing; ``views.runner.start()`` follows."""
    database = await open_database(settings)
    try:
        views = ViewStore(database)
        await views.create_tables()
        use_fingerprint_key(await ledger_key(database, "fingerprint"))
        runner = ProjectionRunner(store, views)
        await runner.load()
    except BaseException:
        await database.close()
        raise
    return Views(database, runner, Queries(database))


async def ledger_key(database: Database, name: str) -> bytes:
    """A random key of this ledger, made once and kept in its database (shared by replicas)."""
    async with database.transaction() as conn:
        await conn.execute(sql.CREATE_KEYS)
        await conn.execute(sql.INSERT_KEY, name, secrets.token_hex(32))
        row = await conn.fetchrow(sql.SELECT_KEY, name)
    assert row is not None
    return bytes.fromhex(row["value"])
