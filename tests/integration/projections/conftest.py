"""The read side on real databases: each test runs on SQLite and on PostgreSQL, with real
commands going through the writer into a real event store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from ledger.domain import commands as c
from ledger.domain.events import Artifact, Pipeline
from ledger.eventstore.application import LedgerStore
from ledger.read_side import open_views
from ledger.service.writer import Writer
from ledger.settings import Settings
from ledger.sql.database import Database
from ledger.wire.shapes import WriteResult
from projections import Views

CI = c.Context(actor="ci-bot", actor_kind="ci")
ALICE = c.Context(actor="alice", actor_kind="human")
BOB = c.Context(actor="bob", actor_kind="human")
SECRETS = ("hunter2-secret", "licence-plaintext-1")
"""Values that are secret from the moment they are set: no view may ever hold them."""


@pytest.fixture
async def views(settings: Settings, store: LedgerStore) -> AsyncIterator[Views]:
    views = await open_views(settings, store)
    yield views
    await views.close()


class Ledger:
    """Commands sent the one way they are sent in production: through the writer."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    async def do(self, cmd: c.AnyCommand, ctx: c.Context = CI) -> WriteResult:
        return await self.writer.run(cmd, ctx)

    async def build(self, app: str, bid: str, status: str = "succeeded") -> None:
        commit = (bid.encode().hex() + "a1b2c3d4" * 5)[:40]
        await self.do(
            c.RecordBuild(
                app=app,
                build_id=bid,
                commit=commit,
                status=status,  # type: ignore[arg-type]
                artifact=Artifact(digest=f"sha256:{commit}"),
                pipeline=Pipeline(name="ci", run_id=f"run-{bid}"),
            )
        )

    async def story_begins(self) -> None:
        """Apps, builds, secrets, a canary rollout, a flag and an irreversible migration."""
        await self.do(c.CreateApp(app="shop", description="the web shop"), ALICE)
        await self.do(c.CreateApp(app="api"), ALICE)
        for bid, status in (("b1", "succeeded"), ("b2", "succeeded"), ("b3", "failed")):
            await self.build("shop", bid, status)
        config = {"A": "1", "DB_PASSWORD": "hunter2-secret", "LICENSE": "licence-plaintext-1"}
        for env in ("staging", "prod"):
            await self.do(c.ChangeConfig(app="shop", env=env, set=config, secret=["LICENSE"]))
        await self.do(c.Deploy(app="shop", env="staging", build_id="b1"))
        await self.do(c.Deploy(app="shop", env="prod", build_id="b1", strategy="canary"))
        for percent in (10, 50):
            await self.do(c.ProgressRollout(app="shop", env="prod", version=2, percent=percent))
        await self.do(c.ProgressRollout(app="shop", env="prod", version=2, status="completed"))
        flag = c.SetFlag(
            app="shop",
            env="prod",
            flag="new-checkout",
            enabled=True,
            rollout_percent=25,
            reason="Launch day",
        )
        await self.do(flag, BOB)
        migration = c.ApplyMigration(
            app="shop", env="prod", migration_id="m1", schema_version="2", reversible=False
        )
        await self.do(migration)

    async def story_ends(self) -> None:
        """New releases, a key declared secret, a forced rollback and a promotion."""
        await self.do(c.Deploy(app="shop", env="prod", build_id="b2"))
        await self.do(c.ChangeConfig(app="shop", env="prod", set={"A": "2"}, unset=["LICENSE"]))
        await self.do(c.ChangeConfig(app="shop", env="prod", set={"B": "3"}, secret=["A"]))
        rollback = c.Rollback(
            app="shop", env="prod", to_version=2, force=True, reason="Payment errors"
        )
        keyed = c.Context(actor="alice", actor_kind="human", idempotency_key="rb-1")
        await self.do(rollback, keyed)
        await self.do(c.Promote(app="shop", env="qa", from_env="staging"))
        await self.do(c.ChangeConfig(app="api", env="prod", set={"API_TOKEN": "hunter2-secret"}))
        await self.do(c.SetFlag(app="api", env="prod", flag="beta", enabled=False), BOB)

    async def story(self) -> None:
        await self.story_begins()
        await self.story_ends()


@pytest.fixture
def ledger(writer: Writer) -> Ledger:
    return Ledger(writer)


@pytest.fixture
def planted_secrets() -> tuple[str, ...]:
    """Secret values the story sets (by pattern and by declaration)."""
    return SECRETS


@pytest.fixture
def view_tables_of() -> Callable[[Database], Awaitable[list[str]]]:
    return view_tables


@pytest.fixture
def dump_of() -> Callable[[Database], Awaitable[dict[str, list[Any]]]]:
    return dump


async def view_tables(database: Database) -> list[str]:
    """Every table whose name starts with ledger_view_, from the database's own catalog."""
    if database.backend == "postgres":
        sql = "SELECT tablename AS name FROM pg_tables WHERE tablename LIKE 'ledger\\_view\\_%'"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'ledger_view_%'"
    return sorted(row["name"] for row in await database.fetch(sql))


async def dump(database: Database) -> dict[str, list[Any]]:
    """Every row of every view table, in a stable order, to compare two states of the views."""
    tables = await view_tables(database)
    assert len(tables) >= 5
    dumped = {}
    for table in tables:
        rows = await database.fetch(f"SELECT * FROM {table}")
        dumped[table] = sorted((sorted(row.items()) for row in rows), key=repr)
    return dumped
