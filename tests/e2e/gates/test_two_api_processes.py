"""Approvals racing each other through two API processes on one PostgreSQL database, with
tokens: however they interleave, the change is released once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ..cluster.conftest import Cluster
from ..cluster.postgres import Workspace
from ..conftest import fresh_database, server_environ
from .places import Outcome, requested
from .secured import Secured, Signed, tokens

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(180)]

APPROVERS = ("root", "bob", "carol", "dave")  # root: admin, which may approve too
PRINCIPALS = {"root": ("system", "admin"), "alice": ("human", "read,deploy")} | {
    name: ("human", "read,approve") for name in APPROVERS[1:]
}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """Two API processes (one of them also the worker) on a PostgreSQL server of the test's
    own: the shared one may not have the connections two ledgers hold."""
    workspace = Workspace()
    try:
        postgres = workspace.server("primary")
        postgres.start()
        with fresh_database(postgres.admin_url) as url:
            env = server_environ(tmp_path / "unused") | {"LEDGER_DATABASE_URL": url}
            running = Cluster(env, tmp_path)
            yield running
            running.stop()
    finally:
        workspace.close()


async def approve(url: str, request: str, by: dict[str, str]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(url) as session,
        session.post(f"/v1/requests/{request}/approve", json={}, headers=by) as answer,
    ):
        return answer.status, await answer.json(content_type=None)


async def test_approvals_racing_through_two_api_processes_release_the_change_once(
    cluster: Cluster,
) -> None:
    principals = tokens(cluster.env, **PRINCIPALS)
    cluster.start(a="all", b="api")
    ledger_a, ledger_b = Secured(cluster["a"], principals), Secured(cluster["b"], principals)
    place = ledger_a.place("qa", admin="root", ci="root")
    build = place.build()
    place.policy(approvals={"required": 1})
    request = requested(place.deploy(build, principals["alice"]))

    urls = [ledger_a.server.url, ledger_b.server.url] * 2
    answers = await asyncio.gather(
        *(approve(url, request, principals[n]) for url, n in zip(urls, APPROVERS, strict=True))
    )

    assert sorted(status for status, _ in answers) == [201, 409, 409, 409], answers
    [release] = [body["release"] for status, body in answers if status == 201]
    assert (release["version"], release["actor"]) == (1, "alice"), release
    other = replace(place, api=Signed(ledger_b.server.url, principals["root"]))
    assert other.version() == 1 and len(other.history(kind="deploy")) == 1
    assert other.request(request)["status"] == "released"
    assert Outcome.of(other.approve(request, principals["bob"])).status == 409
