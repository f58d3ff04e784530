"""`ledger migrate-store` moves everything or nothing: when the target refuses something of
the embedded ledger, the command says what in one line and the target is left as it was; an
old event with a NUL (stored as bytes) moves, and its views project on PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ledger.cli.main import cli as ledger_cli
from ledger.domain import commands as c
from ledger.eventstore.application import LedgerStore
from ledger.operations.migrate_store import _objects
from ledger.service.writer import Writer
from ledger.settings import EVENTS_FILE, Settings
from ledger.sql.database import SqliteDatabase
from ledger.sql.opening import open_database
from ledger.webhooks.registry import WebhookStore
from projections.queries import Queries

from .old_events import NUL_VERSION, STORED_AS, storing_old_text

pytestmark = pytest.mark.postgres
CI = c.Context(actor="ci-bot", actor_kind="ci")


def embedded_ledger(data_dir: Path, *, old_event: bool = False) -> None:
    store = LedgerStore(Settings(data_dir=data_dir))
    writer = Writer(store)
    try:
        writer.execute(c.CreateApp(app="shop"), CI)
        migration = c.ApplyMigration(
            app="shop", env="prod", migration_id="m1", schema_version="v2", reversible=True
        )
        with storing_old_text(store, schema_version=NUL_VERSION if old_event else "v2"):
            writer.execute(migration, CI)
    finally:
        writer.close()
        store.close()


async def add_webhook_with_secret(data_dir: Path, secret: str) -> None:
    database = await SqliteDatabase.open(data_dir / EVENTS_FILE)
    try:
        await WebhookStore(database).create_table()
        await database.execute(
            "INSERT INTO ledger_webhooks (id, url, format, secret, filter, position, created_at, "
            "created_by) VALUES ('wh1', 'http://127.0.0.1:9/', 'cloudevents', $1, '{}', 0, "
            "'2025-01-01T00:00:00.000000Z', 'alice')",
            secret,
        )
    finally:
        await database.close()


def migrate(data_dir: Path, target: str) -> Result:
    env = {"LEDGER_DATA_DIR": str(data_dir), "LEDGER_DATABASE_URL": None}
    return CliRunner().invoke(ledger_cli, ["migrate-store", "--to", target], env=env)


def test_a_refused_row_leaves_the_target_as_it_was_and_says_so_in_one_line(
    data_dir: Path, postgres_url: str
) -> None:
    embedded_ledger(data_dir)
    asyncio.run(add_webhook_with_secret(data_dir, "s3cret\x00tail"))
    before = asyncio.run(_objects(postgres_url))
    done = migrate(data_dir, postgres_url)
    assert done.exit_code == 1, done.output
    [line] = [x for x in done.stderr.splitlines() if x.startswith("Error:")]
    assert done.stderr.strip().endswith(line)
    assert "left the target database as it was" in line and "ledger_webhooks" in line
    assert "run `ledger migrate-store` again" in line
    assert asyncio.run(_objects(postgres_url)) == before


def test_an_old_event_with_a_nul_moves_and_projects(data_dir: Path, postgres_url: str) -> None:
    embedded_ledger(data_dir, old_event=True)
    done = migrate(data_dir, postgres_url)
    assert done.exit_code == 0, done.output
    assert asyncio.run(state_on(postgres_url)) == STORED_AS


async def state_on(url: str) -> str | None:
    database = await open_database(Settings(database_url=url))
    try:
        state = await Queries(database).state("shop", "prod")
        return None if state is None else state.schema_version
    finally:
        await database.close()
