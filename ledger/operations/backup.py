"""Backups: an online copy of the embedded ledger's SQLite file, or the pg_dump command that
takes one of the ledger's tables on PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ledger.settings import Settings


def backup_sqlite(settings: Settings, target: Path) -> int:
    """Copy ``LEDGER_DATA_DIR/ledger.sqlite`` to ``target`` with SQLite's online backup API;
    returns the position of the last event copied.

    The copy is made in one step, inside one read transaction: a consistent snapshot of
    events, snapshots, views and tables as they were at one commit, taken while the server
    runs (WAL readers never block its writer). It is written next to ``target`` and renamed
    into place, so ``target`` is never a half-written file."""
    source = settings.sqlite_file
    if not source.exists():
        raise FileNotFoundError(f"no embedded ledger in {settings.data_dir} (LEDGER_DATA_DIR)")
    if target.exists():
        raise FileExistsError(f"{target} exists; name a new file")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    with (
        closing(sqlite3.connect(source, timeout=30)) as src,
        closing(sqlite3.connect(partial)) as dst,
    ):
        src.backup(dst)  # pages=-1: everything in one step
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        head = dst.execute("SELECT coalesce(max(rowid), 0) FROM stored_events").fetchone()[0]
    with partial.open("rb") as file:
        os.fsync(file.fileno())
    partial.rename(target)
    return int(head)


def pg_dump_command(settings: Settings, target: Path) -> list[str]:
    """The pg_dump command that backs up every table of the ledger (``ledger_*``: events,
    snapshots, views, tokens, keys and the rest) in one consistent snapshot, while it runs.
    With the tables goes the pg_trgm extension their search indexes use (when it is there),
    so that the dump restores into an empty database as it is. The URL carries no password:
    pg_dump takes it from PGPASSWORD or ~/.pgpass."""
    assert settings.database_url is not None
    url = urlsplit(settings.database_url)
    netloc = url.netloc.rpartition("@")[2]
    user = url.username
    safe = urlunsplit(url._replace(netloc=f"{user}@{netloc}" if user else netloc))
    tables = ["--table=ledger_*", "--extension=pg_trgm"]
    return ["pg_dump", "--format=custom", f"--file={target}", *tables, safe]
