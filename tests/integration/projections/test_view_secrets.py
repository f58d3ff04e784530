"""A secret's plaintext never reaches a view: every row of every view table is checked. Each
ledger shows secrets as fingerprints made with its own key, even beside another ledger."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.domain import commands as c
from ledger.eventstore.application import LedgerStore
from ledger.read_side import open_views
from ledger.service.writer import Writer
from ledger.settings import Settings

from ...conftest import fresh_database


async def test_no_view_table_holds_a_secret_value(
    ledger, views, view_tables_of, planted_secrets
) -> None:
    await ledger.story()
    await views.runner.catch_up()
    shown = []
    for table in await view_tables_of(views.database):
        for row in await views.database.fetch(f"SELECT * FROM {table}"):
            shown.append(" ".join(str(value) for value in row.values()))
    text = "\n".join(shown)
    for secret in planted_secrets:
        assert secret not in text
        assert views.fingerprints.fingerprint(secret) in text  # the change is still visible


async def test_secrets_stay_out_after_a_rebuild(ledger, views) -> None:
    await ledger.story()
    await views.runner.rebuild()
    state = await views.queries.state("shop", "prod")
    assert state is not None
    fingerprint = views.fingerprints.fingerprint
    assert state.config["DB_PASSWORD"] == fingerprint("hunter2-secret")
    assert state.config["LICENSE"] == fingerprint("licence-plaintext-1")


@pytest.fixture
def other_settings(settings: Settings, tmp_path: Path, request) -> Iterator[Settings]:
    """A second ledger on the same backend as ``settings``, in a store of its own."""
    own = Settings(data_dir=tmp_path / "other")
    if settings.database_url is None:
        yield own
        return
    with fresh_database(request.getfixturevalue("postgres_admin_url")) as url:
        yield Settings(data_dir=own.data_dir, database_url=url)


async def test_two_ledgers_in_one_process_each_fingerprint_with_their_own_key(
    ledger, views, settings, other_settings
) -> None:
    password = c.ChangeConfig(app="shop", env="prod", set={"DB_PASSWORD": "hunter2-secret"})
    await ledger.story()
    other_store = LedgerStore(other_settings)
    other_writer = Writer(other_store)
    other = await open_views(other_settings, other_store)
    try:
        await other_writer.run(c.CreateApp(app="shop"), c.Context())
        await other_writer.run(password, c.Context())
        await other.runner.catch_up()
        await views.runner.catch_up()
        mine = await views.queries.state("shop", "prod")
        theirs = await other.queries.state("shop", "prod")
    finally:
        await other.close()
        other_writer.close()
        other_store.close()
    assert mine is not None and theirs is not None
    assert views.fingerprints != other.fingerprints
    assert mine.config["DB_PASSWORD"] == views.fingerprints.fingerprint("hunter2-secret")
    assert theirs.config["DB_PASSWORD"] == other.fingerprints.fingerprint("hunter2-secret")
    assert mine.config["DB_PASSWORD"] != theirs.config["DB_PASSWORD"]
