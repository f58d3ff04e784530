"""The composition root: opens the event store, the writer and the views, and wires them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ledger.application import LedgerStore
from ledger.settings import Settings
from ledger.writer import Writer
from projections import Views, open_views


@dataclass
class Ledger:
    """Everything a running ledger holds open."""

    settings: Settings
    store: LedgerStore
    writer: Writer
    views: Views

    async def close(self) -> None:
        """Finish queued writes and the current projection batch, then close the stores."""
        await asyncio.to_thread(self.writer.close)
        await self.views.close()
        self.store.close()


async def open_ledger(settings: Settings, *, follow: bool = True) -> Ledger:
    """Open the ledger; with ``follow`` the projection runner follows the log in this process."""
    store = await asyncio.to_thread(LedgerStore, settings)
    writer = Writer(
        store, batch_max=settings.batch_max, snapshot_interval=settings.snapshot_interval
    )
    views = await open_views(settings, store)
    if follow:
        loop = asyncio.get_running_loop()
        writer.listeners.append(lambda _head: loop.call_soon_threadsafe(views.runner.wake))
        views.runner.start()
    return Ledger(settings=settings, store=store, writer=writer, views=views)
