"""Where the log ends, as a read must see it: every write acknowledged before the read began.

A read that includes the head includes its client's own writes, and those of every other
client whose write was answered first, whichever process answered it."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import NamedTuple

from ledger.eventstore.application import LedgerStore
from ledger.eventstore.dialect import Dialect
from ledger.service.writer import Writer
from ledger.sql.database import Database
from projections.runner import ProjectionRunner
from projections.sql import TRACKING


class Reached(NamedTuple):
    """The log's head, and where the views were when it was read (or later)."""

    head: int
    views: int


class LogHead(ABC):
    """The head of the log as of now, with the views' position known at the same time."""

    @abstractmethod
    async def reached(self) -> Reached:
        """The head, read after this call began, and a position the views have reached."""

    async def stored(self) -> int:
        """The head as the store has it: to be sure before telling a client it is beyond."""
        return (await self.reached()).head


class OwnWrites(LogHead):
    """An embedded ledger, where this process is the log's only writer: the head is the newest
    position its writer saved (it notes it before answering), so no query is needed."""

    def __init__(self, store: LedgerStore, writer: Writer, runner: ProjectionRunner) -> None:
        self.store = store
        self.opened_at = store.head()
        self.writer = writer
        self.runner = runner

    async def reached(self) -> Reached:
        return Reached(max(self.opened_at, self.writer.last_saved), self.runner.position)

    async def stored(self) -> int:
        return await asyncio.to_thread(self.store.head)


class StoredHead(LogHead):
    """A shared PostgreSQL log, written by every API process: one query reads the head and
    the views' stored position together (each an index lookup).

    Reads that arrive together share it: a query sent after a read arrived gives a head as of
    that read, so every read waiting when a query leaves boards it, and later ones the next."""

    def __init__(self, database: Database, dialect: Dialect, runner: ProjectionRunner) -> None:
        self.database = database
        self.runner = runner
        self.statement = (
            f"SELECT (SELECT max({dialect.position}) FROM {dialect.events}) AS head,"
            f" (SELECT position FROM {TRACKING} WHERE name = $1) AS views"
        )
        self._boarding: asyncio.Future[Reached] | None = None  # the query not yet sent
        self._flights: set[asyncio.Task[None]] = set()

    async def reached(self) -> Reached:
        if self._boarding is None:
            self._boarding = asyncio.get_running_loop().create_future()
            self._boarding.add_done_callback(_retrieved)
            flight = asyncio.create_task(self._fly(self._boarding))
            self._flights.add(flight)
            flight.add_done_callback(self._flights.discard)
        return await asyncio.shield(self._boarding)

    async def _fly(self, boarded: asyncio.Future[Reached]) -> None:
        self._boarding = None  # the query leaves now: later reads take the next one
        try:
            row = await self.database.fetchrow(self.statement, self.runner.views.name)
        except Exception as error:
            boarded.set_exception(error)
            return
        assert row is not None, "a query of two subqueries answers one row"
        stored = int(row["views"] or 0)
        boarded.set_result(Reached(int(row["head"] or 0), max(stored, self.runner.position)))


def _retrieved(future: asyncio.Future[Reached]) -> None:
    """A failed query whose readers all went away is not an unhandled error."""
    if not future.cancelled():
        future.exception()


def log_head(
    store: LedgerStore, writer: Writer, database: Database, runner: ProjectionRunner
) -> LogHead:
    """The head of this ledger's log: kept in process when embedded, else queried."""
    if store.settings.embedded:
        return OwnWrites(store, writer, runner)
    return StoredHead(database, Dialect.of(store), runner)
