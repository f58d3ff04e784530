"""Reads from a read replica (LEDGER_READ_DATABASE_URL): queries go to the replica; a read goes
to the replica once it shows the position the read needs (the log's head, or ``min_position``),
and falls back to the primary when it does not within a short bound. ``consistency=eventual``
reads take the replica as it is.

A real streaming replica is set up in tests/e2e/cluster/test_read_replica.py; here the replica's
behaviour is played by the primary itself (always caught up) and by a frozen copy of it (a
replica that stopped replaying), which is all the routing can tell apart."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from psycopg import sql

from ledger.http.keys import VIEWS
from ledger.http.server import create_app
from ledger.settings import Settings
from projections.replica import WAIT_SECONDS

pytestmark = pytest.mark.postgres
STATE = "/v1/apps/shop/envs/dev"
CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


async def write(client: TestClient[Any, Any], path: str, body: object, method: str = "POST") -> int:
    answer = await client.request(method, path, json=body, headers=CI)
    assert answer.status == 201, await answer.text()
    return int((await answer.json())["position"])


async def read(client: TestClient[Any, Any], path: str, **query: object) -> Any:
    answer = await client.get(path, params={k: str(v) for k, v in query.items()})
    assert answer.status == 200, await answer.text()
    return await answer.json()


def _replica(client: TestClient[Any, Any]) -> Any:
    """The read replica of the app the client talks to."""
    assert client.app is not None
    return client.app[VIEWS].replica


async def flag(client: TestClient[Any, Any], enabled: bool) -> int:
    return await write(client, f"{STATE}/flags/checkout", {"enabled": enabled}, "PUT")


@pytest.fixture
def frozen_copy(postgres_admin_url: str, postgres_url: str) -> Iterator[Any]:
    """A function that copies the primary's database as it is now: a replica that replays
    nothing after that moment."""
    made: list[str] = []

    def copy() -> str:
        name = f"ledger_replica_{uuid.uuid4().hex}"
        source = urlsplit(postgres_url).path.lstrip("/")
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}")
            conn.execute(statement.format(sql.Identifier(name), sql.Identifier(source)))
        made.append(name)
        return urlunsplit(urlsplit(postgres_url)._replace(path=f"/{name}"))

    yield copy
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        for name in made:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))


async def test_with_a_caught_up_replica_every_read_is_answered_by_it(
    tmp_path: Path, postgres_url: str
) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url=postgres_url, read_database_url=postgres_url
    )
    async with serving(settings) as client:
        await write(client, "/v1/apps", {"name": "shop"})
        for enabled in (True, False, True):
            position = await flag(client, enabled)
            state = await read(client, STATE, min_position=position)
            assert state["flags"]["checkout"]["enabled"] is enabled
        replica = _replica(client)
        assert replica is not None and replica.fallbacks == 0


async def test_a_replica_that_lags_answers_eventual_reads_and_the_primary_answers_the_rest(
    tmp_path: Path, postgres_url: str, frozen_copy: Any
) -> None:
    async with serving(Settings(data_dir=tmp_path, database_url=postgres_url)) as client:
        await write(client, "/v1/apps", {"name": "shop"})
        then = await flag(client, True)
        await read(client, STATE, min_position=then)
    replica_url = frozen_copy()  # the replica stops here: the flag is on

    settings = Settings(data_dir=tmp_path, database_url=postgres_url, read_database_url=replica_url)
    async with serving(settings) as client:
        now = await flag(client, False)
        await read(client, "/v1/history", min_position=now)  # the primary's views have it
        stale = await read(client, STATE, consistency="eventual")
        assert stale["flags"]["checkout"]["enabled"] is True, "eventual reads use the replica"
        earlier = await read(client, STATE, min_position=then, consistency="eventual")
        assert earlier["position"] == then

        started = time.monotonic()
        fresh = await read(client, STATE, min_position=now)
        waited = time.monotonic() - started
        assert fresh["flags"]["checkout"]["enabled"] is False, "the primary answered"
        assert WAIT_SECONDS <= waited < WAIT_SECONDS + 2
        history = await read(client, "/v1/history", min_position=now)
        assert history["items"][0]["position"] == now
        plain = await read(client, STATE)
        assert plain["flags"]["checkout"]["enabled"] is False, "a plain read includes the head"
        replica = _replica(client)
        assert replica is not None and replica.fallbacks == 4
