"""Read-your-writes across processes: two API processes and a worker that runs the projections,
on one PostgreSQL database. A write answered by one API is in a plain read on the other; with
the worker stopped, such a read answers 503 with Retry-After once LEDGER_READ_WAIT_SECONDS are
over, while ``consistency=eventual`` answers at once with the views as they are."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ..conftest import Api
from .conftest import Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(120)]
SHOP = "/v1/apps/shop"
DEV = f"{SHOP}/envs/dev"
ROUNDS = 20
WAIT_SECONDS = 2


def plain_read(api: Api, path: str, **query: object) -> Any:
    """A GET without min_position that must answer 200."""
    answer = api.get(path, **query)
    assert answer.status == 200, api.explain(answer)
    return answer.json


def test_a_write_on_one_api_is_in_a_plain_read_on_the_other(cluster: Cluster) -> None:
    cluster.env["LEDGER_READ_WAIT_SECONDS"] = str(WAIT_SECONDS)
    cluster.start(api_a="api", api_b="api", worker="worker")
    a, b = cluster["api_a"].api(), cluster["api_b"].api()
    a.write("POST", "/v1/apps", {"name": "shop"})
    assert [app["name"] for app in plain_read(b, "/v1/apps")["apps"]] == ["shop"]
    for round in range(ROUNDS):
        writer, reader = (a, b) if round % 2 == 0 else (b, a)
        config = writer.write("POST", f"{DEV}/config", {"set": {"ROUND": str(round)}})
        state = plain_read(reader, DEV)
        assert (state["position"], state["config"]["ROUND"]) == (config["position"], str(round))
        flag = writer.write("PUT", f"{DEV}/flags/beta", {"enabled": round % 2 == 0})
        [newest] = plain_read(reader, "/v1/history", limit=1)["items"]
        assert (newest["position"], newest["kind"]) == (flag["position"], "flag")

    head = flag["position"]
    beyond = b.get(DEV, min_position=head + 1).problem(422, "min_position")
    assert f"head, {head}" in beyond["detail"]

    cluster["worker"].stop()  # nothing projects any more
    written = a.write("PUT", f"{DEV}/flags/beta", {"enabled": True})
    started = time.monotonic()
    behind = b.get(DEV)
    waited = time.monotonic() - started
    assert str(written["position"]) in behind.problem(503)["detail"]
    assert behind.headers["retry-after"].isdigit()
    assert WAIT_SECONDS <= waited < WAIT_SECONDS + 5

    started = time.monotonic()
    stale = plain_read(b, DEV, consistency="eventual")
    assert time.monotonic() - started < 1, "eventual answers without waiting"
    assert stale["position"] == head and stale["flags"]["beta"]["enabled"] is False
