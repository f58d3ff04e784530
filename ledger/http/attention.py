"""GET /v1/attention: what needs someone now, in one read (the dashboard's "needs me" list)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import msgspec
from aiohttp import web

from ledger.bootstrap import Ledger
from ledger.connectors.attention import connector_needs
from ledger.http.consistency import caught_up
from ledger.http.keys import LEDGER
from ledger.http.responses import json_response
from ledger.service.attention import environment_needs, follower_needs
from ledger.webhooks.attention import webhook_needs
from ledger.webhooks.registry import follower_name
from ledger.wire.attention import AttentionFilter, FollowerNeed, attention
from projections.failures import failed_positions, failures

FILTERS = ("app", "env")


async def needs_attention(request: web.Request) -> web.Response:
    """Drifted environments, pending change requests, freezes in force, failing webhooks and
    connectors, and followers behind or passing events over; ?app= and ?env= narrow what
    concerns an app or environment (followers concern every one)."""
    where = msgspec.convert(
        {name: request.query[name] for name in FILTERS if name in request.query}, AttentionFilter
    )
    queries = await caught_up(request)
    ledger, now = request.app[LEDGER], datetime.now(UTC)
    position = await queries.position()
    places = await environment_needs(
        ledger.store, ledger.views, queries, ledger.settings, where, now
    )
    head = await asyncio.to_thread(ledger.store.head)
    webhooks = webhook_needs(await ledger.webhooks.all(), head, where)
    connectors = await connector_needs(ledger.connectors.store, where, now)
    answer = attention(
        position, places.drift, places.requests, places.frozen, webhooks, connectors,
        await _followers(ledger, head),
    )  # fmt: skip
    return json_response(answer)


async def _followers(ledger: Ledger, head: int) -> list[FollowerNeed]:
    """The followers behind (of those this process owns, as /readyz counts them), and those
    that passed events over (of every process: they are recorded)."""
    owned = {f.name: f.position for f in ledger.followers if f.owner}
    deliverer = ledger.deliverer
    if deliverer is not None and deliverer.owner:
        owned |= {follower_name(i): p for i, p in deliverer.positions.items()}
    passed_over = failed_positions(await failures(ledger.views.database))
    return follower_needs(owned, head, ledger.settings.ready_max_lag, passed_over)
