"""Maintenance of the read models: rebuild them from the event log."""

from __future__ import annotations

import asyncio

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ledger.cli.serve import settings_from_env
from ledger.settings import Settings


@click.group()
def projections() -> None:
    """Manage the projections (the read models behind state, history and releases)."""


@projections.command()
def rebuild() -> None:
    """Rebuild every view from the event log, with a progress bar.

    Opens the store named by the same environment variables as `ledger serve`
    (LEDGER_DATABASE_URL, else LEDGER_DATA_DIR). Run it while the server is stopped.
    """
    count = asyncio.run(_rebuild(settings_from_env()))
    click.echo(f"rebuilt the projections from {count} events")


async def _rebuild(settings: Settings) -> int:
    from ledger.application import LedgerStore
    from projections import open_views

    store = LedgerStore(settings)
    try:
        views = await open_views(settings, store)
        try:
            with _progress() as progress:
                task = progress.add_task("rebuild", total=None)

                def advance(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total or None)

                return await views.runner.rebuild(advance)
        finally:
            await views.close()
    finally:
        store.close()


def _progress() -> Progress:
    """A progress bar on stderr, so stdout carries only the result."""
    columns = (TextColumn("rebuilding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=Console(stderr=True))
