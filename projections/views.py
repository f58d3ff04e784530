"""The read side of one process, held together: the views' database, runner and queries."""

from __future__ import annotations

import secrets

from ledger.sql.database import Database, create_schema
from projections import sql
from projections.heartbeats import Heartbeats
from projections.queries import Queries
from projections.replica import ReadReplica
from projections.runner import ProjectionRunner


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
        self.heartbeats = Heartbeats(database)  # reporters' last reports, on the primary

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


async def ledger_key(database: Database, name: str) -> bytes:
    """A random key of this ledger, made once and kept in its database (shared by replicas)."""
    await create_schema(database, [sql.CREATE_KEYS])
    async with database.transaction() as conn:
        await conn.execute(sql.INSERT_KEY, name, secrets.token_hex(32))
        row = await conn.fetchrow(sql.SELECT_KEY, name)
    assert row is not None
    return bytes.fromhex(row["value"])
