"""The composition root: opens the event store, the writer and the views, and wires them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ledger.application import LedgerStore
from ledger.jetstream.publisher import Publisher
from ledger.settings import Settings
from ledger.tokens import Tokens
from ledger.writer import Writer
from projections.runner import ProjectionRunner
from projections.views import Views, open_views


@dataclass
class Ledger:
    """Everything a running ledger holds open."""

    settings: Settings
    store: LedgerStore
    writer: Writer
    views: Views
    tokens: Tokens
    publisher: Publisher | None = None

    async def close(self) -> None:
        """Finish queued writes and the current projection batch, then close the stores."""
        await asyncio.to_thread(self.writer.close)
        if self.publisher is not None:
            await self.publisher.close()
        await self.views.close()
        self.store.close()


async def open_ledger(settings: Settings, *, follow: bool = True) -> Ledger:
    """Open the ledger; with ``follow`` the projection runner follows the log in this process."""
    store = await asyncio.to_thread(LedgerStore, settings)
    writer = Writer(
        store,
        batch_max=settings.batch_max,
        snapshot_interval=settings.snapshot_interval,
        rules=settings.rules(),
    )
    views = await open_views(settings, store)
    tokens = Tokens(views.database)
    await tokens.create_table()
    ledger = Ledger(settings=settings, store=store, writer=writer, views=views, tokens=tokens)
    if follow:
        _follow(ledger)
    return ledger


def _follow(ledger: Ledger) -> None:
    """Start the followers of the log in this process, woken after every append."""
    followers: list[ProjectionRunner | Publisher] = [ledger.views.runner]
    if ledger.settings.nats_url:
        ledger.publisher = Publisher(ledger.store, ledger.views, ledger.settings.nats_url)
        followers.append(ledger.publisher)
    loop = asyncio.get_running_loop()

    def wake(_head: int) -> None:
        for follower in followers:
            loop.call_soon_threadsafe(follower.wake)

    ledger.writer.listeners.append(wake)
    for follower in followers:
        follower.start()
