"""The witness's memory: the last tree it cosigned for each origin, in a SQLite file
(``synchronous=FULL``), written before it answers.

A tree moves on only from the one it was read as (compare and set in one statement), so two
requests, or two processes on one file, can never both advance a log from the same tree."""

from __future__ import annotations

import base64
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from ledger.domain.merkle import EMPTY_ROOT

SCHEMA = """CREATE TABLE IF NOT EXISTS witness_logs (
    origin TEXT PRIMARY KEY,
    tree_size INTEGER NOT NULL,
    root_hash TEXT NOT NULL,
    cosigned_at TEXT NOT NULL
)"""


class TreeHead(NamedTuple):
    """A tree of a log: its size and root hash."""

    size: int
    root: bytes


NO_TREE = TreeHead(0, EMPTY_ROOT)
"""What a witness holds of a log it never cosigned."""


class WitnessState:
    """The last cosigned tree of every origin, on disk."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(SCHEMA)

    def latest(self, origin: str) -> TreeHead:
        """The tree last cosigned for the origin (size 0 and the empty root when none)."""
        with self._lock:
            row = self._db.execute(
                "SELECT tree_size, root_hash FROM witness_logs WHERE origin = ?", (origin,)
            ).fetchone()
        return NO_TREE if row is None else TreeHead(int(row[0]), base64.b64decode(row[1]))

    def advance(self, origin: str, old: TreeHead, new: TreeHead) -> bool:
        """Record ``new`` as the origin's tree if it still is ``old``; False when it is not
        (another request moved it meanwhile)."""
        now = datetime.now(UTC).isoformat()
        root = base64.b64encode(new.root).decode()
        with self._lock:
            changed = self._db.execute(
                "UPDATE witness_logs SET tree_size = ?, root_hash = ?, cosigned_at = ? "
                "WHERE origin = ? AND tree_size = ? AND root_hash = ?",
                (new.size, root, now, origin, old.size, base64.b64encode(old.root).decode()),
            ).rowcount
            if not changed and old == NO_TREE:
                changed = self._db.execute(
                    "INSERT INTO witness_logs (origin, tree_size, root_hash, cosigned_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (origin) DO NOTHING",
                    (origin, new.size, root, now),
                ).rowcount
        return changed == 1

    def close(self) -> None:
        with self._lock:
            self._db.close()
