"""PostgreSQL restarted under load (a crash: ``pg_ctl stop -m immediate``, then a start): while
it is away the API answers 503 with Retry-After; when it is back the API and the worker recover
by themselves, and nothing acknowledged is lost."""

from __future__ import annotations

import time

import pytest

from ..load import Load, call, log_of, prepare
from .checks import assert_acknowledged_in_log, assert_releases_numbered_without_gaps, caught_up
from .conftest import Cluster
from .postgres import PostgresServer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(90)]
AWAY_SECONDS = 3.0
RECOVERY_SECONDS = 30.0


def _acknowledged_since(load: Load, moment: float, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not [a for a in load.answers if a.at > moment and a.status in (200, 201)]:
        assert time.monotonic() < deadline, f"no request succeeded again: {load.statuses()[-20:]}"
        time.sleep(0.1)


def test_postgres_restart_under_load_answers_503_then_recovers_losing_nothing(
    cluster: Cluster, postgres: PostgresServer
) -> None:
    cluster.start(api="api", worker="worker")
    api = cluster["api"].url
    prepare(api)
    load = Load([api], clients=6, pause=0.02).start()
    try:
        time.sleep(2)
        postgres.stop("immediate")
        stopped = time.monotonic()
        time.sleep(AWAY_SECONDS)
        postgres.start()
        started = time.monotonic()
        _acknowledged_since(load, started, RECOVERY_SECONDS)
        time.sleep(1)
    finally:
        load.stop()

    away = [a for a in load.answers if stopped < a.at < started]
    recovered = min(a.at for a in load.answers if a.at > started and a.status in (200, 201))
    print(f"away {started - stopped:.1f}s: {len(away)} answers, {load.statuses().count(503)} 503s")
    print(f"a success {recovered - started:.1f}s after the start; {len(load.acks)} acks")
    assert any(a.status == 503 and a.retry_after for a in away), [a.status for a in away]
    assert [s for s in load.failed() if s != 503] == [], load.statuses()
    last = load.answers[-len(load.answers) // 10 :]
    assert all(a.status in (200, 201, 404) for a in last), [a.status for a in last]
    assert call(api, "GET", "/readyz")[0] == 200

    head = max(a.position for a in load.acks)
    caught_up(api, head)
    log = log_of(api)
    assert_acknowledged_in_log(load.acks, log)
    assert_releases_numbered_without_gaps(api, load.acks, log[-1]["ledgerposition"])
