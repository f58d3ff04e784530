"""Backups and moving the store: `ledger backup`, `ledger migrate-store`."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
from msgspec.structs import replace
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from ledger.cli.failures import store_of
from ledger.cli.serve import settings_from_env
from ledger.operations.backup import backup_sqlite, pg_dump_command


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    """Back up the ledger to PATH, safely while the server runs.

    Embedded (SQLite): copies LEDGER_DATA_DIR/ledger.sqlite with SQLite's online backup (one
    consistent snapshot). Restore: stop the server, copy the file to ledger.sqlite in an empty
    LEDGER_DATA_DIR, start the server. PostgreSQL: prints the pg_dump command to run instead
    (restore with `pg_restore --dbname=URL PATH` into an empty database).
    """
    settings = settings_from_env()
    if not settings.embedded:
        click.echo("# the ledger is on PostgreSQL: back up its tables with pg_dump")
        click.echo(shlex.join(pg_dump_command(settings, path)))
        return
    try:
        head = backup_sqlite(settings, path)
    except (FileNotFoundError, FileExistsError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backed up the ledger up to position {head} to {path}")
    _signing_key_note(settings.data_dir, "keep a copy of it with the backup")


def _signing_key_note(data_dir: Path, advice: str) -> None:
    """The audit signing key of an embedded ledger is a file of its own, not in the database."""
    from ledger.audit.signing import KEY_FILE  # on demand: loads cryptography

    key = data_dir / KEY_FILE
    if key.exists():
        click.echo(f"note: the audit signing key is {key}: {advice}")


@click.command("migrate-store")
@click.option("--to", "target", required=True, metavar="URL", help="postgresql://… (empty).")
def migrate_store(target: str) -> None:
    """Move the embedded ledger (LEDGER_DATA_DIR) into an empty PostgreSQL database.

    Positions, event hashes, tokens and secret fingerprints stay as they are; the views are
    rebuilt on PostgreSQL. Stop the server first, and keep LEDGER_CIPHER_KEY as it was. It moves
    everything or nothing: when it fails, the target database is left as it was and the error
    says what failed; fix that and re-run.
    """
    # on demand: loads cryptography, which the other commands do without
    from ledger.operations.migrate_store import MigrationFailed, TargetNotEmpty
    from ledger.operations.migrate_store import migrate_store as move

    if not target.startswith(("postgresql://", "postgres://")):
        raise click.UsageError("--to must be a postgresql:// URL")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        tasks: dict[str, TaskID] = {}

        def advance(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total or None)
            bar.update(tasks[step], completed=done, total=total or None)

        settings = settings_from_env()
        click.echo(f"ledger: into: {store_of(replace(settings, database_url=target))}", err=True)
        try:
            count = move(settings, target, advance)
        except (TargetNotEmpty, MigrationFailed, ValueError) as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"moved {count} events into PostgreSQL; start the server with LEDGER_DATABASE_URL")
    _signing_key_note(settings.data_dir, "set LEDGER_SIGNING_KEY to its content")
