"""Reads of the past through the real HTTP app (``create_app``) on SQLite and on PostgreSQL.

A story is written first, on the ledger's own command path (``handle`` in a ``Session``, then
``store.save``) with an explicit clock, so every recorded time is known; then the app starts on
the same store and its projections catch up. Tests read through aiohttp's TestClient.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ledger.domain import commands as c
from ledger.domain.events import Artifact, Pipeline
from ledger.eventstore.application import LedgerStore
from ledger.http.keys import TOKENS
from ledger.http.server import create_app
from ledger.service.session import Decided, Session
from ledger.service.tokens import parse_scopes
from ledger.service.unit_of_work import handle
from ledger.settings import Settings

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CI = c.Context(actor="ci-bot", actor_kind="ci", via="http", correlation_id="run-7")
ALICE = c.Context(actor="alice", actor_kind="human", via="cli")
ENV = "/v1/apps/shop/envs/prod"


class Story:
    """Commands decided at given times, the one way commands are decided, and saved."""

    def __init__(self, store: LedgerStore) -> None:
        self.store = store
        self.positions: list[int] = []

    def at(self, when: datetime, cmd: c.AnyCommand, ctx: c.Context = CI) -> int:
        """Decide and save the command as if the ledger's clock said ``when``; its position."""
        decided, position = self.decide(when, cmd, ctx)
        assert decided.refusal is None, decided.refusal
        return position

    def decide(self, when: datetime, cmd: c.AnyCommand, ctx: c.Context = CI) -> tuple[Decided, int]:
        """Decide and save the command at ``when``, refused or not: what it did, and where."""
        session = Session(self.store, OrderedDict())
        decided = handle(session, cmd, ctx, when)
        recordings = self.store.save(*session.pending)
        positions = {id(r.domain_event): r.notification.id for r in recordings}
        position = max(positions[id(event)] for event in decided.events)  # not idempotency's
        self.positions.append(position)
        return decided, position

    def build(
        self, when: datetime, bid: str, *, committed_at: datetime | None = None, app: str = "shop"
    ) -> int:
        commit = (bid.encode().hex() + "a1b2c3d4" * 5)[:40]
        cmd = c.RecordBuild(
            app=app,
            build_id=bid,
            commit=commit,
            status="succeeded",
            artifact=Artifact(digest=f"sha256:{commit}"),
            pipeline=Pipeline(name="ci", run_id=f"run-{bid}"),
            committed_at=committed_at,
        )
        return self.at(when, cmd)


@pytest.fixture
def story(settings: Settings) -> Iterator[Story]:
    store = LedgerStore(settings)
    yield Story(store)
    store.close()


class Reader:
    """GETs against the app, each after the views caught up with the story."""

    def __init__(self, client: TestClient[Any, Any], head: int) -> None:
        self.client = client
        self.head = head
        self.headers: dict[str, str] = {}

    async def get(self, path: str, **query: object) -> tuple[int, Any]:
        params = {k: str(v) for k, v in query.items() if v is not None}
        params.setdefault("min_position", str(self.head))
        response = await self.client.get(path, params=params, headers=self.headers)
        body = await response.read()
        ctype = response.content_type
        is_json = ctype.endswith(("/json", "+json"))
        return response.status, (await response.json(content_type=ctype)) if is_json else body

    async def caught_up(self) -> None:
        """Wait until the views hold the whole story (for reads that do not wait themselves)."""
        await self.ok("/v1/apps")

    async def ok(self, path: str, **query: object) -> Any:
        status, body = await self.get(path, **query)
        assert status == 200, body
        return body

    async def problem(self, status: int, path: str, **query: object) -> dict[str, Any]:
        got, body = await self.get(path, **query)
        assert got == status, body
        assert isinstance(body, dict) and body["status"] == status, body
        return body

    async def as_principal(self, name: str, kind: str, scopes: str) -> Reader:
        """A reader that sends a new token of the principal (the app leaves open mode)."""
        token = await self.client.app[TOKENS].create(name, kind, parse_scopes(scopes))
        reader = Reader(self.client, self.head)
        reader.headers = {"Authorization": f"Bearer {token}"}
        return reader


@pytest.fixture
async def read(settings: Settings, story: Story) -> AsyncIterator[Any]:
    """Start the app on the story's store; ``await read()`` after the story is written."""
    clients: list[TestClient[Any, Any]] = []

    async def start() -> Reader:
        client = TestClient(TestServer(create_app(settings)))
        await client.start_server()
        clients.append(client)
        return Reader(client, max(story.positions, default=0))

    yield start
    for client in clients:
        await client.close()


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


class ProdStory:
    """shop in prod (and staging): config, deploys, a flag, a secret, an irreversible migration,
    a canary, and a forced rollback; ``pos`` names the position of each step."""

    def __init__(self, story: Story) -> None:
        self.story = story
        self.pos: dict[str, int] = {}

    def write(self) -> ProdStory:
        s, pos = self.story, self.pos
        pos["app"] = s.at(T0, c.CreateApp(app="shop"), ALICE)
        s.build(T0 + hours(0.1), "b1")
        s.build(T0 + hours(0.2), "b2")
        pos["v1"] = s.at(T0 + hours(1), config({"A": "1", "DB_PASSWORD": "hunter2-secret"}))
        pos["v2"] = s.at(T0 + hours(2), c.Deploy(app="shop", env="prod", build_id="b1"))
        flag = c.SetFlag(app="shop", env="prod", flag="beta", enabled=True, rollout_percent=25)
        pos["flag"] = s.at(T0 + hours(3), flag, ALICE)
        pos["v3"] = s.at(T0 + hours(4), config({"A": "2", "LICENSE": "lic-1"}, ["LICENSE"]))
        migration = c.ApplyMigration(
            app="shop", env="prod", migration_id="m1", schema_version="2", reversible=False
        )
        pos["m1"] = s.at(T0 + hours(5), migration)
        canary = c.Deploy(app="shop", env="prod", build_id="b2", strategy="canary", steps=[10, 100])
        pos["v4"] = s.at(T0 + hours(6), canary)
        done = c.ProgressRollout(app="shop", env="prod", version=4, status="completed")
        pos["v4-done"] = s.at(T0 + hours(7), done)
        back = c.Rollback(app="shop", env="prod", to_version=3, force=True, reason="=errors")
        pos["v5"] = s.at(T0 + hours(8), back, ALICE)
        pos["staging"] = s.at(T0 + hours(9), config({"A": "1", "ONLY_STAGING": "x"}, env="staging"))
        s.at(T0 + hours(9.5), c.Deploy(app="shop", env="staging", build_id="b2"))
        return self


def config(values: dict[str, str], secret: list[str] | None = None, env: str = "prod") -> Any:
    return c.ChangeConfig(app="shop", env=env, set=values, secret=secret or [])


@pytest.fixture
def prod_story(story: Story) -> ProdStory:
    return ProdStory(story).write()
