"""The audit tables and their statements: one set for PostgreSQL and SQLite ($n placeholders).

Hashes are stored as lowercase hex TEXT and ``created_at`` as fixed-width ISO-8601 UTC text,
so both databases hold, sort and compare them the same way.
"""

from __future__ import annotations

LEAVES = "ledger_merkle_leaves"
CHECKPOINTS = "ledger_checkpoints"

TABLES = (
    f"""CREATE TABLE IF NOT EXISTS {LEAVES} (
        leaf_index BIGINT PRIMARY KEY,
        position BIGINT NOT NULL UNIQUE,
        event_hash TEXT NOT NULL
    )""",
    f"""CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (
        tree_size BIGINT PRIMARY KEY,
        root_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        signature TEXT,
        key_id TEXT,
        note TEXT
    )""",
)

ADDED_COLUMNS = ((CHECKPOINTS, "note", "TEXT"),)
"""Columns added to an audit table after it was first made: tables made before get them.
``note`` is the signed note of a checkpoint, null for a v1 checkpoint (made before notes)."""

SCHEMA: dict[str, tuple[str, ...]] = {
    # Replicas may start together: one at a time creates the tables.
    "postgres": ("SELECT pg_advisory_xact_lock(7204611554)", *TABLES),
    "sqlite": TABLES,
}

SELECT_LAST_LEAF = f"SELECT leaf_index, position FROM {LEAVES} ORDER BY leaf_index DESC LIMIT 1"
SELECT_LEAVES = f"""
    SELECT leaf_index, position, event_hash FROM {LEAVES}
    WHERE leaf_index >= $1 ORDER BY leaf_index LIMIT $2"""
SELECT_LEAF_AT = f"SELECT leaf_index, event_hash FROM {LEAVES} WHERE position = $1"
INSERT_LEAF = f"INSERT INTO {LEAVES} (leaf_index, position, event_hash) VALUES ($1, $2, $3)"

CHECKPOINT_FIELDS = ("tree_size", "root_hash", "created_at", "signature", "key_id", "note")
CHECKPOINT_COLUMNS = ", ".join(CHECKPOINT_FIELDS)
INSERT_CHECKPOINT = f"""
    INSERT INTO {CHECKPOINTS} ({CHECKPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (tree_size) DO NOTHING"""
SELECT_LATEST_CHECKPOINT = (
    f"SELECT {CHECKPOINT_COLUMNS} FROM {CHECKPOINTS} ORDER BY tree_size DESC LIMIT 1"
)
SELECT_CHECKPOINT = f"SELECT {CHECKPOINT_COLUMNS} FROM {CHECKPOINTS} WHERE tree_size = $1"
SELECT_CHECKPOINTS = f"SELECT {CHECKPOINT_COLUMNS} FROM {CHECKPOINTS} ORDER BY tree_size"

SELECT_POSITION_OF_EVENT = "SELECT position FROM ledger_view_history WHERE event_id = $1"
"""The history view knows each event's id (the event store keeps it inside the event's state)."""
