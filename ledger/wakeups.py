"""Cross-process wake-ups on PostgreSQL: a writer NOTIFYs after each commit, followers in
other processes LISTEN, so a worker projects an API replica's append at once rather than at
its next poll (which stays as the fallback)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from ledger.application import LedgerStore

log = logging.getLogger("ledger.wakeups")
CHANNEL = "ledger_appended"
RECONNECT_SECONDS = 2.0


def notifier(store: LedgerStore) -> Callable[[int], None]:
    """A writer listener that announces the new head on the channel (PostgreSQL only)."""
    datastore: Any = getattr(store.recorder, "datastore", None)

    def notify(head: int) -> None:
        try:
            with datastore.transaction(commit=True) as cursor:
                cursor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(head)))
        except Exception as error:  # a lost wake-up only delays followers until their poll
            log.warning("could not announce position %d: %s", head, error)

    return notify


async def listen(url: str, wake: Callable[[], None], stopping: asyncio.Event) -> None:
    """Call ``wake`` on every announcement until ``stopping`` is set; reconnect when needed."""
    while not stopping.is_set():
        try:
            conn = await asyncpg.connect(url, timeout=5)
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            log.warning("cannot LISTEN for appends: %s", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), RECONNECT_SECONDS)
            continue
        try:
            await conn.add_listener(CHANNEL, lambda *_: wake())
            while not stopping.is_set() and not conn.is_closed():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), RECONNECT_SECONDS)
                wake()  # also a periodic nudge, in case a notification was missed
        finally:
            if not conn.is_closed():
                await conn.close()
