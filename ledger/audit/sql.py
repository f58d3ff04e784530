"""The audit tables and their statements: one set for PostgreSQL and SQLite ($n placeholders).

Hashes are stored as lowercase hex TEXT and ``created_at`` as fixed-width ISO-8601 UTC text,
so both databases hold, sort and compare them the same way.
"""

from __future__ import annotations

LEAVES = "ledger_merkle_leaves"
CHECKPOINTS = "ledger_checkpoints"
COSIGNATURES = "ledger_cosignatures"
WITNESSES = "ledger_witnesses"

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
    # one witness's cosignature of a checkpoint, as its line (ending in a newline); the
    # witness is named by its verifier key
    f"""CREATE TABLE IF NOT EXISTS {COSIGNATURES} (
        tree_size BIGINT NOT NULL,
        witness TEXT NOT NULL,
        line TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (tree_size, witness)
    )""",
    # what the ledger knows of each witness: the tree it holds (its last cosigned, or the size
    # it said it has), and the last failure to get a cosignature
    f"""CREATE TABLE IF NOT EXISTS {WITNESSES} (
        witness TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        tree_size BIGINT NOT NULL,
        root_hash TEXT,
        cosigned_at TEXT,
        error TEXT,
        failing_since TEXT,
        checked_at TEXT NOT NULL
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

INSERT_COSIGNATURE = f"""
    INSERT INTO {COSIGNATURES} (tree_size, witness, line, received_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (tree_size, witness) DO UPDATE SET line = excluded.line,
        received_at = excluded.received_at"""
SELECT_COSIGNATURES_OF = (
    f"SELECT witness, line FROM {COSIGNATURES} WHERE tree_size = $1 ORDER BY received_at, witness"
)
SELECT_COSIGNATURES = f"SELECT tree_size, witness, line FROM {COSIGNATURES} ORDER BY tree_size"

WITNESS_FIELDS = (
    "witness", "url", "tree_size", "root_hash", "cosigned_at", "error", "failing_since",
    "checked_at",
)  # fmt: skip
WITNESS_COLUMNS = ", ".join(WITNESS_FIELDS)
UPSERT_WITNESS = f"""
    INSERT INTO {WITNESSES} ({WITNESS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (witness) DO UPDATE SET url = excluded.url, tree_size = excluded.tree_size,
        root_hash = excluded.root_hash, cosigned_at = excluded.cosigned_at,
        error = excluded.error, failing_since = excluded.failing_since,
        checked_at = excluded.checked_at"""
SELECT_WITNESS = f"SELECT {WITNESS_COLUMNS} FROM {WITNESSES} WHERE witness = $1"
SELECT_WITNESSES = f"SELECT {WITNESS_COLUMNS} FROM {WITNESSES} ORDER BY witness"
