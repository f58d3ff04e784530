"""Retrying what the NATS publisher or a webhook passed over: the event is sent again, alone.

Messages and deliveries carry their position (``ledgerposition``, ``X-Ledger-Delivery``), and
the later ones went out already: a retried one arrives late, out of order, which a subscriber
ordering by position sees. The projections are retried by a rebuild instead (ledger.cli.rebuild).
"""

from __future__ import annotations

import asyncio

from ledger.eventstore.application import LedgerStore, read_batch
from ledger.jetstream.publisher import Publisher
from ledger.settings import Settings
from ledger.webhooks.deliverer import Deliverer
from ledger.webhooks.registry import WebhookStore, follower_name
from projections import failures
from projections.failures import Failure
from projections.queries import HistoryQuery
from projections.views import Views


async def resend(
    settings: Settings, store: LedgerStore, views: Views, failure: Failure
) -> str | None:
    """Send the failed event again; None when it went through (and its record is removed),
    else why not (the record stays)."""
    if failure.follower == Publisher.name:
        problem = await _publish(settings, store, views, failure.position)
    else:
        problem = await _deliver(settings, store, views, failure)
    if problem is None:
        async with views.database.transaction() as conn:
            await failures.forget(conn, failure.follower, failure.position)
    return problem


async def _publish(
    settings: Settings, store: LedgerStore, views: Views, position: int
) -> str | None:
    if settings.nats_url is None:
        return "LEDGER_NATS_URL is not set"
    batch = await asyncio.to_thread(read_batch, store, position - 1, 1)
    if not batch or batch[0][0] != position:
        return f"no event at position {position}"
    publisher = Publisher(store, views, settings.nats_url)
    try:
        await publisher.publish(batch)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    finally:
        await publisher.close()
    return None


async def _deliver(
    settings: Settings, store: LedgerStore, views: Views, failure: Failure
) -> str | None:
    hooks = WebhookStore(views.database)
    hook = next((h for h in await hooks.all() if follower_name(h.id) == failure.follower), None)
    if hook is None:
        return f"no follower {failure.follower}"
    page = await views.queries.history(HistoryQuery(after=failure.position - 1, limit=1))
    if not page.items or page.items[0].position != failure.position:
        return f"no history item at position {failure.position}"
    return await Deliverer.of(settings, store, views, hooks).send_once(hook, page.items[0])
