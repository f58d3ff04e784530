"""The composition root: opens the event store, the writer and the views, and wires them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ledger.application import LedgerStore
from ledger.settings import Settings
from ledger.tokens import Tokens
from ledger.writer import Writer
from projections.views import Views, open_views


@dataclass
class Ledger:
    """Everything a running ledger holds open."""

    settings: Settings
    store: LedgerStore
    writer: Writer
    views: Views
    tokens: Tokens

    async def close(self) -> None:
        """Finish queued writes and the current projection batch, then close the stores."""
        await asyncio.to_thread(self.writer.close)
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
    if follow:
        loop = asyncio.get_running_loop()

        def wake(_head: int) -> None:
            loop.call_soon_threadsafe(views.runner.wake)

        writer.listeners.append(wake)
        views.runner.start()
    return Ledger(settings=settings, store=store, writer=writer, views=views, tokens=tokens)
