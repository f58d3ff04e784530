"""What runs, read now: one environment's runtime against its release line, and every
environment whose runtime is not in sync (what GET /v1/drift and GET /v1/attention list)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from ledger.eventstore.application import LedgerStore
from ledger.eventstore.runtime import runtime_now
from ledger.settings import Settings
from ledger.wire.runtime import DriftItem, Durations, RuntimeView, runtime_view
from projections.heartbeats import Heartbeats
from projections.queries import Queries


def durations_of(settings: Settings) -> Durations:
    """The grace after a release (LEDGER_DRIFT_GRACE_SECONDS) and how long a reporter may
    stay silent (LEDGER_RUNTIME_STALE_SECONDS)."""
    return Durations(
        grace=timedelta(seconds=settings.drift_grace_seconds),
        stale=timedelta(seconds=settings.runtime_stale_seconds),
    )


async def runtime_now_view(
    store: LedgerStore,
    heartbeats: Heartbeats,
    place: tuple[str, str],
    durations: Durations,
    now: datetime,
) -> RuntimeView:
    """What runs in the place's environment now against what its release line expects."""
    app, env = place
    runtime, line = await asyncio.to_thread(runtime_now, store, app, env)
    last = await heartbeats.last(app, env)
    return runtime_view(runtime, line, last, now, durations)


async def runtime_places(queries: Queries, heartbeats: Heartbeats) -> list[tuple[str, str]]:
    """Every (app, env) with a runtime to read: those with events, and those where reporters
    saw an app the ledger never released there; sorted."""
    places = {(found.name, summary.env) for found in await queries.apps() for summary in found.envs}
    return sorted(places | await heartbeats.reported())


async def not_in_sync(
    store: LedgerStore,
    queries: Queries,
    heartbeats: Heartbeats,
    durations: Durations,
    now: datetime,
    *,
    app: str | None = None,
    env: str | None = None,
) -> list[DriftItem]:
    """Every environment (of ``app``, in ``env``, when given) whose runtime is not in sync."""
    items = []
    for place in await runtime_places(queries, heartbeats):
        if (app is not None and place[0] != app) or (env is not None and place[1] != env):
            continue
        view = await runtime_now_view(store, heartbeats, place, durations, now)
        if view.status != "in_sync":
            items.append(DriftItem(app=place[0], env=place[1], runtime=view))
    return items
