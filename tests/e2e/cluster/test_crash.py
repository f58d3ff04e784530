"""Crashes under load. Two API processes and two workers share one PostgreSQL database and one
NATS server; eight clients deploy, flip flags and change config through both APIs; then one API
and the active worker are killed with SIGKILL. The standby worker takes over, and afterwards:
every acknowledged write is in the log, releases are numbered without gaps or duplicates, the
views equal a rebuild from the log, and a NATS subscriber got every event exactly once."""

from __future__ import annotations

import asyncio

import pytest

from ...servers import NatsServer
from ..load import Load, log_of, prepare
from .checks import (
    Subscriber,
    assert_acknowledged_in_log,
    assert_releases_numbered_without_gaps,
    assert_views_equal_a_rebuild,
    caught_up,
)
from .conftest import Cluster
from .postgres import PostgresServer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(90)]
WORKERS = ["worker1", "worker2"]
FOLLOWERS = {"projections", "nats-publisher", "webhooks"}


async def test_killing_an_api_and_the_active_worker_loses_nothing(
    cluster: Cluster, own_nats: NatsServer, postgres: PostgresServer
) -> None:
    cluster.env["LEDGER_NATS_URL"] = own_nats.url
    subscriber = await Subscriber().open(cluster.env["LEDGER_NATS_URL"])
    try:
        await asyncio.to_thread(
            cluster.start, api1="api", api2="api", worker1="worker", worker2="worker"
        )
        apis = [cluster["api1"].url, cluster["api2"].url]
        await asyncio.to_thread(prepare, apis[0])
        load = Load(apis, clients=8).start()
        await asyncio.sleep(3)

        active = await asyncio.to_thread(cluster.owner_of, "projections", WORKERS)
        assert active is not None, "no worker owns the projections"
        standby = next(w for w in WORKERS if w != active)
        cluster.kill("api1")
        cluster.kill(active)
        acked_before = len(load.acks)
        await asyncio.sleep(4)
        await asyncio.to_thread(load.stop)
        assert len(load.acks) > acked_before, "the surviving API took no writes"
        assert load.failed() == [], load.statuses()

        survivor = apis[1]
        head = max(a.position for a in load.acks)
        await asyncio.to_thread(caught_up, survivor, head)
        assert await asyncio.to_thread(cluster.owned_by, standby) >= FOLLOWERS
        log = await asyncio.to_thread(log_of, survivor)
        assert_acknowledged_in_log(load.acks, log)
        assert_releases_numbered_without_gaps(survivor, load.acks, log[-1]["ledgerposition"])
        await subscriber.until(log[-1]["ledgerposition"])
        subscriber.assert_exactly_once(log)
        print(f"{len(load.acks)} writes acknowledged ({acked_before} before the kills)")
        print(f"{len(log)} events, {len(subscriber.events)} NATS messages; killed {active}")
    finally:
        await subscriber.close()
        await asyncio.to_thread(cluster.stop)
    await asyncio.to_thread(
        assert_views_equal_a_rebuild, postgres.admin_url, cluster.env["LEDGER_DATABASE_URL"]
    )
