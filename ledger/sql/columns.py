"""Columns added to a table after it was first made, the same way on both backends."""

from __future__ import annotations

from ledger.sql.database import Connection


async def add_column(conn: Connection, backend: str, table: str, column: str, kind: str) -> None:
    """Add the column to a table made before it existed (nothing when it has it)."""
    if backend == "postgres":
        await conn.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
        return
    found = await conn.fetch(f"SELECT 1 FROM pragma_table_info('{table}') WHERE name = $1", column)
    if not found:
        await conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
