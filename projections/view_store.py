"""The view store: writes each batch of view changes with the new position in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from ledger.domain.model import Environment
from ledger.sql.columns import add_column
from ledger.sql.database import Database
from projections import failures, sql
from projections.projectors import EnvKey, ViewChanges
from projections.request_changes import ProjectedRequest
from projections.rows import (
    app_row,
    environment_of,
    history_row,
    projected_request_of,
    release_row,
    request_row,
    state_row,
    storable_rows,
)

log = logging.getLogger("ledger.views")

TRACKING_NAME = "views"
FOLLOWER = "projections"
"""The projections' name in the failures table."""


class PositionConflict(Exception):
    """Another runner moved the views on since this one read its position."""


class ViewStore:
    """The only writer of the ledger_view_ tables."""

    def __init__(self, database: Database, name: str = TRACKING_NAME) -> None:
        self.database = database
        self.name = name

    async def create_tables(self) -> None:
        """Create the tables and the tracking row when missing."""
        async with self.database.transaction() as conn:
            for statement in sql.SCHEMA[self.database.backend]:
                await conn.execute(statement)
            for table, column, kind in sql.ADDED_COLUMNS:
                await add_column(conn, self.database.backend, table, column, kind)
            await conn.execute(sql.START_TRACKING, self.name)
        await self.create_search_indexes()

    async def create_search_indexes(self) -> None:
        """PostgreSQL: the trigram indexes of ``q=``, when pg_trgm may be created (else q=
        works by scanning, and the log says how to speed it up)."""
        if self.database.backend != "postgres":
            return
        try:
            async with self.database.transaction() as conn:
                for statement in sql.CREATE_SEARCH:
                    await conn.execute(statement)
        except Exception as error:
            log.warning(
                "q= searches will scan the history: cannot create its trigram indexes (%s). "
                "Ask the database's owner to run CREATE EXTENSION pg_trgm, then restart.",
                error,
            )

    async def position(self) -> int:
        """The position of the last event applied to the views (0 before any)."""
        row = await self.database.fetchrow(sql.SELECT_POSITION, self.name)
        return 0 if row is None else int(row["position"])

    async def environment(self, key: EnvKey) -> Environment | None:
        """The projected (redacted) state of an environment, as last written."""
        row = await self.database.fetchrow(sql.SELECT_ENVIRONMENT, *key)
        return None if row is None else environment_of(row)

    async def environments_of(self, app: str) -> dict[EnvKey, Environment]:
        """The projected state of every environment of an app."""
        rows = await self.database.fetch(sql.SELECT_ENVIRONMENTS_OF_APP, app)
        return {(app, row["env"]): environment_of(row) for row in rows}

    async def requests(self, ids: Iterable[str]) -> dict[str, ProjectedRequest]:
        """The change requests of these ids, as last written (those it holds)."""
        found: dict[str, ProjectedRequest] = {}
        for request_id in ids:
            row = await self.database.fetchrow(sql.SELECT_REQUEST, request_id)
            if row is not None:
                found[request_id] = projected_request_of(row)
        return found

    async def write(self, changes: ViewChanges, start: int, end: int) -> None:
        """Apply a batch's changes and move the position from start to end, atomically."""
        async with self.database.transaction() as conn:
            # First, so that a second runner waits here for the first one's batch, then fails.
            if await conn.execute(sql.ADVANCE_POSITION, self.name, end, start) != 1:
                raise PositionConflict(f"the views are no longer at position {start}")
            if changes.apps:
                rows = storable_rows(app_row(*a) for a in changes.apps)
                await conn.executemany(sql.UPSERT_APP, rows)
            if changes.envs:
                states = changes.states
                rows = storable_rows(state_row(k, p, states[k]) for k, p in changes.envs.items())
                await conn.executemany(sql.UPSERT_STATE, rows)
            if changes.releases:
                rows = storable_rows(release_row(k[:2], r) for k, r in changes.releases.items())
                await conn.executemany(sql.UPSERT_RELEASE, rows)
            if changes.history:
                rows = storable_rows(history_row(item) for item in changes.history)
                await conn.insert_many(sql.HISTORY, sql.HISTORY_COLUMNS, rows)
            if requests := changes.requests.rows():
                rows = storable_rows(request_row(r) for r in requests)
                await conn.executemany(sql.UPSERT_REQUEST, rows)

    async def pass_over(
        self, start: int, position: int, event_id: str | None, error: BaseException
    ) -> None:
        """Record that the event at ``position`` could not be projected and move the position
        from start past it, atomically (its views stay as they were)."""
        positions = (start, position)
        if not await failures.pass_over(
            self.database, self.name, FOLLOWER, positions, event_id, error
        ):
            raise PositionConflict(f"the views are no longer at position {start}")

    async def clear(self) -> None:
        """Empty every view and reset the position to 0 (before a rebuild)."""
        async with self.database.transaction() as conn:
            for statement in sql.CLEAR_VIEWS[self.database.backend]:
                await conn.execute(statement)
            await conn.execute(sql.RESET_POSITION, self.name)
            await failures.forget(conn, FOLLOWER)  # the replay records those that still fail

    async def drop_indexes(self) -> None:
        """Drop the secondary indexes, for a bulk load (create_indexes() brings them back)."""
        async with self.database.transaction() as conn:
            for statement in sql.DROP_INDEXES:
                await conn.execute(statement)
            if self.database.backend == "postgres":
                for statement in sql.DROP_SEARCH:
                    await conn.execute(statement)

    async def create_indexes(self) -> None:
        """Create the secondary indexes that are missing, then gather the planner's statistics
        (they end a bulk load)."""
        async with self.database.transaction() as conn:
            for statement in sql.INDEXES:
                await conn.execute(statement)
        await self.create_search_indexes()
        async with self.database.transaction() as conn:
            for statement in sql.ANALYZE:
                await conn.execute(statement)
