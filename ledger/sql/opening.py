"""The database beside the events, named by the settings."""

from __future__ import annotations

from ledger.settings import Settings
from ledger.sql.database import Database, PostgresDatabase, SqliteDatabase


async def open_database(settings: Settings) -> Database:
    """The views' database: the events' PostgreSQL database, else the events' SQLite file."""
    if settings.database_url is not None:
        return await PostgresDatabase.open(settings.database_url)
    return await SqliteDatabase.open(settings.sqlite_file)
