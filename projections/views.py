"""The composition of the read side: open the views' database, runner and queries together."""

from __future__ import annotations

import secrets

from ledger.application import LedgerStore
from ledger.domain.secrets import Fingerprints
from ledger.settings import Settings
from ledger.store import EVENTS_FILE
from projections import sql
from projections.database import Database, PostgresDatabase, SqliteDatabase, create_schema
from projections.queries import Queries
from projections.replica import ReadReplica
from projections.runner import ProjectionRunner
from projections.store import ViewStore


class Views:
    """The read side of one process: the views' database, their runner and the queries."""

    def __init__(
        self,
        database: Database,
        runner: ProjectionRunner,
        queries: Queries,
        replica: ReadReplica | None = None,
    ) -> None:
        self.database = database
        self.fingerprints = runner.fingerprints  # the ledger's key, kept in this database
        self.runner = runner
        self.queries = queries  # on the primary: for followers, and reads without a replica
        self.replica = replica

    async def wait_for(self, position: int, timeout: float) -> bool:
        """Wait (at most ``timeout`` seconds) until the views include ``position``."""
        return await self.runner.wait_for(position, timeout)

    async def queries_for(self, position: int | None = None) -> Queries:
        """The queries a client's read uses: the read replica's, when there is one and (given
        ``position``) its views include that position soon enough; else the primary's."""
        if self.replica is None:
            return self.queries
        if position is None or await self.replica.includes(position):
            return self.replica.queries
        return self.queries

    async def close(self) -> None:
        """Stop the runner after its current batch, then close the databases."""
        await self.runner.stop()
        if self.replica is not None:
            await self.replica.close()
        await self.database.close()


async def open_database(settings: Settings) -> Database:
    """The views' database: the events' PostgreSQL database, else the events' SQLite file."""
    if settings.database_url is not None:
        return await PostgresDatabase.open(settings.database_url)
    return await SqliteDatabase.open(settings.data_dir / EVENTS_FILE)


async def open_replica(settings: Settings) -> ReadReplica | None:
    """The read replica named by LEDGER_READ_DATABASE_URL (PostgreSQL only), if any."""
    if settings.read_database_url is None:
        return None
    if settings.database_url is None:
        raise ValueError("LEDGER_READ_DATABASE_URL needs LEDGER_DATABASE_URL (its primary)")
    return ReadReplica(await PostgresDatabase.open(settings.read_database_url))


async def open_views(settings: Settings, store: LedgerStore) -> Views:
    """Open the views, creating their tables when missing; ``views.runner.start()`` follows."""
    database = await open_database(settings)
    try:
        views = ViewStore(database)
        await views.create_tables()
        fingerprints = Fingerprints(await ledger_key(database, "fingerprint"))
        runner = ProjectionRunner(store, views, rules=settings.rules(), fingerprints=fingerprints)
        await runner.load()
        replica = await open_replica(settings)
    except BaseException:
        await database.close()
        raise
    return Views(database, runner, Queries(database), replica)


async def ledger_key(database: Database, name: str) -> bytes:
    """A random key of this ledger, made once and kept in its database (shared by replicas)."""
    await create_schema(database, [sql.CREATE_KEYS])
    async with database.transaction() as conn:
        await conn.execute(sql.INSERT_KEY, name, secrets.token_hex(32))
        row = await conn.fetchrow(sql.SELECT_KEY, name)
    assert row is not None
    return bytes.fromhex(row["value"])
