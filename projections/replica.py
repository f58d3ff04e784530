"""Reads from a read replica of the views (PostgreSQL streaming replication), with a bounded
wait for read-your-writes: a read that needs position P uses the replica once the replica's
views include P, and falls back to the primary when they do not within a short bound."""

from __future__ import annotations

import asyncio
import logging

from ledger.sql.database import Database
from projections.queries import Queries

log = logging.getLogger("ledger.replica")
WAIT_SECONDS = 0.2
POLL_SECONDS = 0.02


class ReadReplica:
    """The views as a replica of the primary sees them."""

    def __init__(self, database: Database, *, wait_seconds: float = WAIT_SECONDS) -> None:
        self.database = database
        self.queries = Queries(database)
        self.wait_seconds = wait_seconds
        self.fallbacks = 0  # reads the primary answered because the replica was behind

    async def includes(self, position: int) -> bool:
        """Whether the replica's views include ``position``, waiting at most ``wait_seconds``.

        The position and the view rows it covers are committed together on the primary, so a
        replica that shows the position also shows the rows (replay keeps commit order)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
        try:
            while await self.queries.position() < position:
                if loop.time() >= deadline:
                    self.fallbacks += 1
                    return False
                await asyncio.sleep(POLL_SECONDS)
        except Exception as error:  # a failing replica must not fail what the primary answers
            log.warning("the read replica cannot be read: %s", error)
            self.fallbacks += 1
            return False
        return True

    async def close(self) -> None:
        await self.database.close()
