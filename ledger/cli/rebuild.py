"""Maintenance of the read models: rebuild them from the event log, list and retry the events
a follower could not handle."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ledger.cli.serve import settings_from_env
from ledger.eventstore.application import LedgerStore
from ledger.read_side import open_views
from ledger.settings import Settings
from ledger.sql.opening import open_database
from projections.failures import Failure
from projections.failures import failures as recorded
from projections.view_store import ViewStore


@click.group()
def projections() -> None:
    """Manage the projections (the read models behind state, history and releases)."""


@projections.command()
def rebuild() -> None:
    """Rebuild every view from the event log, with a progress bar.

    Opens the store named by the same environment variables as `ledger serve`
    (LEDGER_DATABASE_URL, else LEDGER_DATA_DIR). Run it while the server is stopped. An event
    that cannot be projected is recorded as a failure and passed over (see `failures`).
    """
    count, failed = asyncio.run(_rebuild(settings_from_env()))
    click.echo(f"rebuilt the projections from {count} events")
    _report(failed)


@projections.command()
def failures() -> None:
    """List the events a follower could not handle and passed over: position, follower,
    event id, when, and the error (tab-separated, oldest position first)."""
    found = asyncio.run(_failures(settings_from_env()))
    if not found:
        click.echo("no event was passed over", err=True)
    for failure in found:
        event_id = failure.event_id or "-"
        line = (failure.position, failure.follower, event_id, failure.failed_at, failure.error)
        click.echo("\t".join(str(value) for value in line))


@projections.command()
@click.argument("positions", nargs=-1, type=click.IntRange(min=1))
def retry(positions: tuple[int, ...]) -> None:
    """Handle again the events passed over (those at POSITIONS, or all), after a fix.

    Projections: an event changes the state every later event was projected on, so it is never
    applied out of order: the views are rebuilt from the log (stop the server first). NATS
    publisher and webhooks: the event is sent again, alone (after the later ones). A failure
    that goes through now loses its record; exits 1 when some still fail.
    """
    still = asyncio.run(_retry(settings_from_env(), set(positions)))
    if still:
        raise click.ClickException(f"{still} still failing: see `ledger projections failures`")


async def _retry(settings: Settings, positions: set[int]) -> int:
    """Retry the failures at ``positions`` (all when empty); return how many still fail."""
    # on demand: loads nats and aiohttp
    from ledger.operations.resend import resend

    store = LedgerStore(settings)
    try:
        views = await open_views(settings, store)
        try:
            found = await recorded(views.database)
            if unknown := sorted(positions - {f.position for f in found}):
                raise click.ClickException(f"no failure recorded at position(s) {_listed(unknown)}")
            chosen = [f for f in found if not positions or f.position in positions]
            if not chosen:
                click.echo("no failures to retry")
            still = 0
            if mine := {f.position for f in chosen if f.follower == views.runner.name}:
                with _progress() as progress:
                    await views.runner.rebuild(_advancing(progress))
                failed = await recorded(views.database, views.runner.name)
                fixed = sorted(mine - {f.position for f in failed})
                click.echo(f"rebuilt the projections; projected now: {_listed(fixed)}")
                _report(failed)
                still += len(failed)
            for failure in chosen:
                if failure.follower != views.runner.name:
                    problem = await resend(settings, store, views, failure)
                    said = "sent again" if problem is None else f"still failing: {problem}"
                    click.echo(f"{failure.position}\t{failure.follower}\t{said}")
                    still += problem is not None
            return still
        finally:
            await views.close()
    finally:
        store.close()


def _report(failed: list[Failure]) -> None:
    if failed:
        click.echo(
            f"{len(failed)} event(s) could not be projected, at position(s) "
            f"{_listed([f.position for f in failed])}: see `ledger projections failures`"
        )


def _listed(positions: list[int]) -> str:
    return ", ".join(str(p) for p in positions) or "none"


async def _failures(settings: Settings, follower: str | None = None) -> list[Failure]:
    database = await open_database(settings)
    try:
        await ViewStore(database).create_tables()
        return await recorded(database, follower)
    finally:
        await database.close()


async def _rebuild(settings: Settings) -> tuple[int, list[Failure]]:
    store = LedgerStore(settings)
    try:
        views = await open_views(settings, store)
        try:
            with _progress() as progress:
                count = await views.runner.rebuild(_advancing(progress))
            return count, await recorded(views.database, views.runner.name)
        finally:
            await views.close()
    finally:
        store.close()


def _advancing(progress: Progress) -> Callable[[int, int], None]:
    task = progress.add_task("rebuild", total=None)

    def advance(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total or None)

    return advance


def _progress() -> Progress:
    """A progress bar on stderr, so stdout carries only the result."""
    columns = (TextColumn("rebuilding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=Console(stderr=True))
