"""Moving an embedded (SQLite) ledger into PostgreSQL with every position and hash intact.

The events are copied in notification order with their notification ids (the log's positions)
and their stored state as it is (still compressed or encrypted under the same key), so every
event decodes to the same event with the same hash. The ledger's own tables move as they are,
the fingerprint key among them (a new key would change every secret's fingerprint); then the
views are rebuilt on PostgreSQL from the moved log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import msgspec

from ledger.audit.checkpointer import create_tables as create_audit_tables
from ledger.eventstore.application import LedgerStore
from ledger.read_side import open_views
from ledger.service.tokens import Tokens
from ledger.settings import Settings
from ledger.sql.database import Database, PostgresDatabase, SqliteDatabase
from ledger.webhooks.registry import WebhookStore
from projections import sql
from projections.view_store import TRACKING_NAME, ViewStore

BATCH = 1000
MOVED_TABLES = (
    "ledger_keys",
    "ledger_tokens",
    "ledger_webhooks",
    "ledger_merkle_leaves",
    "ledger_checkpoints",
    sql.TRACKING,  # where the publisher and other followers are (the views' row is rebuilt)
)
"""The ledger's own tables besides events, snapshots and views, moved row by row."""
Progress = Callable[[str, int, int], None]  # (what it is doing, done, total)


class TargetNotEmpty(Exception):
    """The target database already holds a ledger (or part of one)."""


class MigrationFailed(Exception):
    """The move failed midway; the target database was put back as it was."""


class Refused(Exception):
    """The target refused something of the source (e.g. text PostgreSQL cannot hold)."""


SYSTEM = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
OBJECTS_OF = f"""
    SELECT CASE c.relkind WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END AS kind,
        c.oid::regclass::text AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'c') AND {SYSTEM}
    UNION ALL
    SELECT 'FUNCTION', p.oid::regprocedure::text FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {SYSTEM}
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'EXTENSION', quote_ident(extname) FROM pg_extension"""
"""What a move may create in the target: its tables, types, functions and extensions."""
DROP_ORDER = ("EXTENSION", "FUNCTION", "TABLE", "TYPE")
Objects = set[tuple[str, str]]


def migrate_store(settings: Settings, target_url: str, progress: Progress | None = None) -> int:
    """Move the embedded ledger of ``settings`` into the empty PostgreSQL database at
    ``target_url``; returns the number of events moved. Run it with the server stopped."""
    if not settings.embedded:
        raise ValueError("the source must be an embedded ledger: unset LEDGER_DATABASE_URL")
    if not (settings.sqlite_file).exists():
        raise ValueError(f"no embedded ledger in {settings.data_dir} (LEDGER_DATA_DIR)")
    target_settings = msgspec.structs.replace(
        settings, database_url=target_url, read_database_url=None
    )
    before = asyncio.run(_objects(target_url))
    try:
        source, target = LedgerStore(settings), LedgerStore(target_settings)
        try:
            return asyncio.run(_migrate(source, target, target_settings, progress or _quiet))
        finally:
            target.close()
            source.close()
    except TargetNotEmpty:
        asyncio.run(_put_back(target_url, before))
        raise
    except Exception as error:
        asyncio.run(_put_back(target_url, before))
        said = str(error) if isinstance(error, Refused) else f"{type(error).__name__}: {error}"
        what = " ".join(said.split())
        raise MigrationFailed(
            f"migrate-store failed and left the target database as it was: {what}. "
            "Fix the cause, then run `ledger migrate-store` again."
        ) from error


async def _migrate(
    source: LedgerStore, target: LedgerStore, settings: Settings, progress: Progress
) -> int:
    assert settings.database_url is not None
    old = await SqliteDatabase.open(source.settings.sqlite_file)
    new = await PostgresDatabase.open(settings.database_url)
    try:
        await _create_tables(new)
        await _refuse_non_empty(target, new)
        moved = await asyncio.to_thread(_copy_log, source, target, progress)
        await _copy_tables(old, new)
    finally:
        await old.close()
        await new.close()
    views = await open_views(settings, target)  # with the moved fingerprint key
    try:
        await views.runner.rebuild(lambda done, total: progress("rebuilding views", done, total))
    finally:
        await views.close()
    return moved


async def _create_tables(database: Database) -> None:
    await ViewStore(database).create_tables()
    await database.execute(sql.CREATE_KEYS)
    await Tokens(database).create_table()
    await WebhookStore(database).create_table()
    await create_audit_tables(database)


async def _refuse_non_empty(target: LedgerStore, database: Database) -> None:
    if await asyncio.to_thread(target.head) or _snapshot_count(target):
        raise TargetNotEmpty("the target database already holds events")
    for table in (*MOVED_TABLES, sql.HISTORY):
        ours = f" WHERE name <> '{TRACKING_NAME}'" if table == sql.TRACKING else ""
        row = await database.fetchrow(f"SELECT count(*) AS n FROM {table}{ours}")
        if row is not None and row["n"]:
            raise TargetNotEmpty(f"the target database already holds rows in {table}")


def _copy_log(source: LedgerStore, target: LedgerStore, progress: Progress) -> int:
    """Events (with their notification ids) and snapshots, in one transaction."""
    recorder: Any = target.recorder
    schema = recorder.datastore.schema
    events = f"{schema}.{recorder.events_table_name}"
    snapshots = f"{schema}.{_snapshots_recorder(target).events_table_name}"
    total, moved = source.head(), 0
    with recorder.datastore.transaction(commit=True) as cursor:
        for batch in _notifications(source):
            cursor.executemany(
                f"INSERT INTO {events} (originator_id, originator_version, topic, state, "
                "notification_id) VALUES (%s, %s, %s, %s, %s)",
                [(n.originator_id, n.originator_version, n.topic, n.state, n.id) for n in batch],
            )
            moved += len(batch)
            progress("moving events", batch[-1].id, total)
        if total:  # the next append continues after the moved log
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s)", (events, total)
            )
        cursor.executemany(
            f"INSERT INTO {snapshots} (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)",
            list(_snapshots(source)),
        )
    return moved


def _notifications(store: LedgerStore) -> Iterator[list[Any]]:
    position = 0
    while batch := store.recorder.select_notifications(position, BATCH, inclusive_of_start=False):
        yield list(batch)
        position = batch[-1].id


def _snapshots_recorder(store: LedgerStore) -> Any:
    assert store.snapshots is not None, "snapshotting is always enabled"
    return store.snapshots.recorder


def _snapshots(store: LedgerStore) -> Iterator[tuple[UUID, int, str, bytes]]:
    recorder = _snapshots_recorder(store)
    columns = "originator_id, originator_version, topic, state"
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT {columns} FROM {recorder.events_table_name}")
        for row in cursor.fetchall():
            yield UUID(str(row[0])), int(row[1]), str(row[2]), bytes(row[3])


def _snapshot_count(store: LedgerStore) -> int:
    recorder = _snapshots_recorder(store)
    table = f"{recorder.datastore.schema}.{recorder.events_table_name}"
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT count(*) AS n FROM {table}")
        row: Any = cursor.fetchone()
    return int(row["n"])


async def _copy_tables(old: Database, new: Database) -> None:
    """The ledger's own tables, row by row, in one transaction."""
    present = {r["name"] for r in await old.fetch("SELECT name FROM sqlite_master")}
    async with new.transaction() as conn:
        for table in MOVED_TABLES:
            if table not in present:
                continue
            rows = await old.fetch(f"SELECT * FROM {table}")
            if table == sql.TRACKING:
                rows = [r for r in rows if r["name"] != TRACKING_NAME]
            if rows:
                columns = list(rows[0])
                marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
                statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                try:
                    await conn.executemany(statement, [[r[c] for c in columns] for r in rows])
                except Exception as error:
                    raise Refused(f"PostgreSQL refused a row of {table}: {error}") from error


async def _objects(url: str) -> tuple[Objects, list[str]]:
    """The objects of a PostgreSQL database, and which of its tables are empty."""
    database = await PostgresDatabase.open(url, max_size=1)
    try:
        found = {(row["kind"], row["name"]) for row in await database.fetch(OBJECTS_OF)}
        empty = []
        for kind, name in sorted(found):
            if kind == "TABLE" and not await database.fetchrow(f"SELECT 1 FROM {name} LIMIT 1"):
                empty.append(name)
        return found, empty
    finally:
        await database.close()


async def _put_back(url: str, before: tuple[Objects, list[str]]) -> None:
    """Drop what the move created and empty again the tables that were empty before it."""
    objects, empty = before
    database = await PostgresDatabase.open(url, max_size=1)
    try:
        async with database.transaction() as conn:
            created = {(r["kind"], r["name"]) for r in await conn.fetch(OBJECTS_OF)} - objects
            for kind in DROP_ORDER:
                for name in sorted(n for k, n in created if k == kind):
                    await conn.execute(f"DROP {kind} IF EXISTS {name} CASCADE")
            if empty:
                await conn.execute(f"TRUNCATE {', '.join(empty)}")
    finally:
        await database.close()


def _quiet(_step: str, _done: int, _total: int) -> None:
    return None
