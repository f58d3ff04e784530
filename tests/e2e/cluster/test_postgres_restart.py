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
    # A read waits (bounded) for the views to reach the log's head; the worker cannot move them
    # while PostgreSQL is away, so a short wait lets reads answer 503 within the outage.
    cluster.env["LEDGER_READ_WAIT_SECONDS"] = "1"
    cluster.start(api="api", worker="worker")
    api = cluster["api"].url
    prepare(api)
    writers = Load([api], clients=4, pause=0.02, ops=("deploy", "flag", "config")).start()
    readers = Load([api], clients=1, pause=0.1, ops=("read",)).start()
    try:
        time.sleep(2)
        postgres.stop("immediate")
        stopped = time.monotonic()
        readiness_while_away = call(api, "GET", "/readyz")[0]  # the store check is bounded
        time.sleep(max(AWAY_SECONDS - (time.monotonic() - stopped), 0))
        postgres.start()
        started = time.monotonic()
        _acknowledged_since(writers, started, RECOVERY_SECONDS)
        time.sleep(2)
    finally:
        writers.stop()
        readers.stop()

    away = [a for a in readers.answers if stopped < a.at < started]
    recovered = min(a.at for a in writers.answers if a.at > started and a.status in (200, 201))
    print(f"away {started - stopped:.1f}s: {[a.status for a in away]} to reads")
    print(f"a write succeeded {recovered - started:.1f}s after the start; {len(writers.acks)} acks")
    refused = [a for a in away if a.status not in (200, 404)]  # 200: back before pg_ctl knew
    assert refused and all(a.status == 503 and a.retry_after for a in refused), away
    assert [s for s in writers.failed() + readers.failed() if s != 503] == []
    # Once back, a read answers as soon as the worker's views reach the head; until then it
    # is a 503 with Retry-After (the views behind, past the read's bounded wait), never an error.
    after = [a for a in readers.answers if a.at > recovered + 0.5]
    assert after and all(a.status in (200, 404) or a.retry_after for a in after), after
    assert readiness_while_away == 503
    assert call(api, "GET", "/readyz")[0] == 200

    head = max(a.position for a in writers.acks)
    caught_up(api, head)
    assert call(api, "GET", "/v1/apps")[0] == 200
    log = log_of(api)
    assert_acknowledged_in_log(writers.acks, log)
    assert_releases_numbered_without_gaps(api, writers.acks, log[-1]["ledgerposition"])
