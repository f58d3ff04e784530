"""Operator tasks on the publisher: its status, and re-publishing a range of the log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import msgspec
import nats

from ledger.eventstore.application import LedgerStore, read_batch
from ledger.jetstream.publisher import CHECKPOINT, STREAM, Publisher
from ledger.read_side import open_views
from ledger.settings import Settings
from projections import sql


class PublisherStatus(msgspec.Struct, kw_only=True):
    head: int
    position: int
    lag: int
    stream_messages: int | None
    stream_error: str | None = None


async def status(settings: Settings) -> PublisherStatus:
    """How far the publisher is behind the log, and what the stream holds."""
    store = await asyncio.to_thread(LedgerStore, settings)
    views = await open_views(settings, store)
    try:
        head = await asyncio.to_thread(store.head)
        row = await views.database.fetchrow(sql.SELECT_POSITION, CHECKPOINT)
        position = 0 if row is None else int(row["position"])
        messages, error = await _stream_messages(settings.nats_url)
        return PublisherStatus(
            head=head,
            position=position,
            lag=head - position,
            stream_messages=messages,
            stream_error=error,
        )
    finally:
        await views.close()
        store.close()


async def _stream_messages(url: str | None) -> tuple[int | None, str | None]:
    if not url:
        return None, "LEDGER_NATS_URL is not set"
    try:
        nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
    except Exception as error:
        return None, f"cannot reach NATS at {url}: {error}"
    try:
        info = await nc.jetstream().stream_info(STREAM)
        return info.state.messages, None
    except Exception as error:
        return None, f"stream {STREAM}: {error}"
    finally:
        await nc.close()


async def republish(
    settings: Settings, start: int, progress: Callable[[int, int], None] | None = None
) -> int:
    """Publish the log again from ``start`` (inclusive) to its head; JetStream drops what it
    already holds (within its de-duplication window). The stored position is left alone."""
    if not settings.nats_url:
        raise ValueError("set LEDGER_NATS_URL")
    store = await asyncio.to_thread(LedgerStore, settings)
    views = await open_views(settings, store)
    publisher = Publisher(store, views, settings.nats_url, checkpoint="republish")
    try:
        head = await asyncio.to_thread(store.head)
        position, count = max(start - 1, 0), 0
        while batch := await asyncio.to_thread(read_batch, store, position, 500):
            await views.runner.catch_up()
            await publisher.publish(batch)
            position, count = batch[-1][0], count + len(batch)
            if progress:
                progress(position, head)
        return count
    finally:
        await publisher.close()
        await views.close()
        store.close()
