"""Encryption at rest: new keys, and re-encrypting every stored event under a new key."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

from ledger.eventstore.application import LedgerStore
from ledger.settings import Settings

BATCH = 500


def new_key() -> str:
    """A fresh AES-256 key, base64-encoded, for LEDGER_CIPHER_KEY."""
    return AESCipher.create_key(32)


def _cipher(key: str | None) -> AESCipher | None:
    return AESCipher(Environment(env={"CIPHER_KEY": key})) if key else None


def rotate(
    settings: Settings, key: str | None, progress: Callable[[int, int], None] | None = None
) -> int:
    """Re-encrypt every event and snapshot from LEDGER_CIPHER_KEY (or plaintext) to ``key``
    (or plaintext when None). Content and hashes are unchanged; run it with the server stopped."""
    store = LedgerStore(settings)
    try:
        old, new = _cipher(settings.cipher_key), _cipher(key)
        total = store.head()
        done = 0
        for table in _tables(store):
            done = _rewrap_table(store, table, old, new, done, total, progress)
    finally:
        store.close()
    if settings.embedded:
        _purge_old_pages(settings.sqlite_file)
    return done


def _purge_old_pages(path: Path) -> None:
    """SQLite keeps old page images in free pages and the WAL: rewrite the file without them.
    (On PostgreSQL, run VACUUM FULL on the events tables afterwards for the same effect.)"""
    conn = sqlite3.connect(path, isolation_level=None)  # VACUUM cannot run in a transaction
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def _tables(store: LedgerStore) -> list[str]:
    recorders: list[Any] = [store.recorder]
    if store.snapshots is not None:
        recorders.append(store.snapshots.recorder)
    return [r.events_table_name for r in recorders]


def _rewrap_table(
    store: LedgerStore,
    table: str,
    old: AESCipher | None,
    new: AESCipher | None,
    done: int,
    total: int,
    progress: Callable[[int, int], None] | None,
) -> int:
    recorder: Any = store.recorder
    sqlite = recorder.__class__.__module__.endswith("sqlite")
    mark = "?" if sqlite else "%s"
    name = table if sqlite else f"{recorder.datastore.schema}.{table}"
    datastore = recorder.datastore
    with datastore.transaction(commit=True) as cursor:
        cursor.execute(f"SELECT originator_id, originator_version, state FROM {name}")
        rows = cursor.fetchall()
        for row in rows:
            oid, version, state = row[0], row[1], bytes(row[2])
            plain = old.decrypt(state) if old else state
            cursor.execute(
                f"UPDATE {name} SET state={mark} WHERE originator_id={mark}"
                f" AND originator_version={mark}",
                (new.encrypt(plain) if new else plain, oid, version),
            )
            done += 1
            if progress and done % BATCH == 0:
                progress(done, total)
    if progress:
        progress(done, total)
    return done
