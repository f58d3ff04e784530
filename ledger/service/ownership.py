"""One active owner per follower across processes: a PostgreSQL session advisory lock.

The lock lives as long as the owner's dedicated connection: when the owner dies, PostgreSQL
drops the connection and the lock with it, and a standby takes over on its next try. With
SQLite the ledger is one process, which always owns its followers."""

from __future__ import annotations

import hashlib
import logging

import asyncpg

from projections.follower import Ownership, SoleOwner

log = logging.getLogger("ledger.ownership")


class AdvisoryLock:
    """pg_try_advisory_lock on a connection of its own, held while this process owns."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name
        digest = hashlib.sha256(f"release-ledger/{name}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self._conn: asyncpg.Connection | None = None
        self._held = False

    async def acquire(self) -> bool:
        try:
            if self._conn is None or self._conn.is_closed():
                self._held = False
                self._conn = await asyncpg.connect(self.url, timeout=5)
            if self._held:
                await self._conn.fetchval("SELECT 1")  # the connection (and lock) still live
                return True
            self._held = bool(
                await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key)
            )
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            log.warning("%s: cannot reach PostgreSQL for the ownership lock: %s", self.name, error)
            await self._drop()
            return False
        if self._held:
            log.info("%s: this process is now the active owner", self.name)
        return self._held

    async def release(self) -> None:
        await self._drop()

    async def _drop(self) -> None:
        self._held = False
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()
        self._conn = None


def ownership(database_url: str | None, name: str) -> Ownership:
    return SoleOwner() if database_url is None else AdvisoryLock(database_url, name)
