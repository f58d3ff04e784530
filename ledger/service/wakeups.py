"""Cross-process wake-ups on PostgreSQL: every append NOTIFYs, followers in other processes
LISTEN, so a worker projects an API replica's append at once rather than at its next poll
(which stays as the fallback).

The NOTIFY is the event store's own: eventsourcing's recorder sends one on the channel named
after the events table inside every insert transaction, so it is delivered exactly when the
append commits and costs the writer nothing more (no transaction of its own)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

log = logging.getLogger("ledger.wakeups")
CHANNEL = "ledger_events"  # the recorder's channel: the events table of the app named Ledger
RECONNECT_SECONDS = 2.0


async def listen(url: str, wake: Callable[[], None], stopping: asyncio.Event) -> None:
    """Call ``wake`` on every announcement until ``stopping`` is set; reconnect when needed."""
    while not stopping.is_set():
        try:
            conn = await asyncpg.connect(url, timeout=5)
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            log.warning("cannot LISTEN for appends: %s", error)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RECONNECT_SECONDS):
                    await stopping.wait()
            continue
        try:
            await conn.add_listener(CHANNEL, lambda *_: wake())
            while not stopping.is_set() and not conn.is_closed():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(RECONNECT_SECONDS):
                        await stopping.wait()
                wake()  # also a periodic nudge, in case a notification was missed
        finally:
            if not conn.is_closed():
                await conn.close()
