"""`ledger nats …`: the publisher's status, and re-publishing a range of the log."""

from __future__ import annotations

import asyncio

import click
from rich.progress import Progress

from ledger.cli.serve import settings_from_env


@click.group("nats")
def nats_group() -> None:
    """NATS JetStream publishing (stream LEDGER, subjects ledger.events.> and ledger.feed.>)."""


@nats_group.command("status")
def status() -> None:
    """Show the log head, the publisher's position, its lag and the stream's size."""
    # on demand: loads nats and aiohttp
    from ledger.operations.jetstream import status as read_status

    s = asyncio.run(read_status(settings_from_env()))
    click.echo(f"log head:           {s.head}")
    click.echo(f"published up to:    {s.position}")
    click.echo(f"lag:                {s.lag}")
    click.echo(f"stream messages:    {s.stream_messages if s.stream_messages is not None else '?'}")
    if s.stream_error:
        click.echo(f"stream:             {s.stream_error}")


@nats_group.command("republish")
@click.option("--from", "start", type=click.IntRange(min=1), required=True, help="Position.")
def republish(start: int) -> None:
    """Publish the log again from POSITION to its head (safe: JetStream drops duplicates
    within its de-duplication window; older ones are re-delivered as new messages)."""
    # on demand: loads nats and aiohttp
    from ledger.operations.jetstream import republish as run

    with Progress(transient=True) as progress:
        task = progress.add_task("republishing", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        count = asyncio.run(run(settings_from_env(), start, advance))
    click.echo(f"republished {count} log entries from position {start}")
