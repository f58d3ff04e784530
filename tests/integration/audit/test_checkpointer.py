"""The checkpointer: one leaf per event in log order, checkpoints every N events or T seconds
and on demand, safe with two of them, and signed unless PostgreSQL runs without a key."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ledger.audit import Checkpointer, open_audit
from ledger.audit.signing import KEY_FILE
from ledger.audit.verifier import verify_log
from ledger.domain import commands as c
from ledger.domain.chain import event_hash
from ledger.domain.merkle import event_leaf_data, leaf_hash, tree_root
from ledger.eventstore.application import LedgerStore, read_batch
from ledger.eventstore.encryption import new_key
from ledger.service.writer import Writer
from ledger.settings import Settings
from ledger.sql.database import Database
from ledger.sql.opening import open_database


async def events(writer: Writer, count: int) -> None:
    """``count`` events: the app shop, then flag flips in shop/prod."""
    await writer.run(c.CreateApp(app="shop"), c.Context(actor="alice"))
    await flags(writer, count - 1)


async def flags(writer: Writer, count: int) -> None:
    for n in range(count):
        flag = c.SetFlag(app="shop", env="prod", flag="f", enabled=bool(n % 2))
        await writer.run(flag, c.Context(actor="bob"))


async def leaves(database: Database) -> list[tuple[int, int, str]]:
    rows = await database.fetch("SELECT * FROM ledger_merkle_leaves ORDER BY leaf_index")
    return [(int(r["leaf_index"]), int(r["position"]), r["event_hash"]) for r in rows]


async def sizes(database: Database) -> list[int]:
    rows = await database.fetch("SELECT tree_size FROM ledger_checkpoints ORDER BY tree_size")
    return [int(r["tree_size"]) for r in rows]


async def test_one_leaf_per_event_in_log_order_and_the_signed_root_of_them(
    store: LedgerStore, writer: Writer, checkpointer: Checkpointer, database: Database
) -> None:
    await events(writer, 7)
    assert await checkpointer.catch_up() == 7
    checkpoint = await checkpointer.checkpoint()
    stored = read_batch(store, 0, 100)
    expected = [(i, p, event_hash(e)) for i, (p, e) in enumerate(stored)]
    assert await leaves(database) == expected
    hashes = [leaf_hash(event_leaf_data(p, bytes.fromhex(h))) for _, p, h in expected]
    assert checkpoint is not None
    assert checkpoint.root_hash == tree_root(hashes).hex()
    assert checkpoint.tree_size == 7 and checkpoint.signature is not None


async def test_a_checkpoint_every_n_events_then_within_t_seconds(
    store: LedgerStore, writer: Writer, audit: Any, database: Database
) -> None:
    checkpointer = Checkpointer(store, database, audit.signer, every_events=3, every_seconds=0.2)
    checkpointer.batch_size = 2
    await events(writer, 7)
    await checkpointer.catch_up()
    assert await sizes(database) == [2, 6]  # the first batch, then 3 or more leaves later
    await asyncio.sleep(0.25)
    await checkpointer.step()  # nothing new to read, but the last leaf waited long enough
    assert await sizes(database) == [2, 6, 7]
    await checkpointer.step()
    assert await sizes(database) == [2, 6, 7]  # no new leaf, no new checkpoint


async def test_the_running_checkpointer_follows_the_log(
    store: LedgerStore, writer: Writer, audit: Any, database: Database
) -> None:
    checkpointer = Checkpointer(store, database, audit.signer, every_events=1, every_seconds=0)
    loop = asyncio.get_running_loop()  # woken after each save, as the app does it
    writer.listeners.append(lambda _: loop.call_soon_threadsafe(checkpointer.wake))
    checkpointer.start()
    try:
        await events(writer, 3)
        for _ in range(300):
            if checkpointer.latest is not None and checkpointer.latest.tree_size == 3:
                break
            await asyncio.sleep(0.02)
        assert checkpointer.latest is not None and checkpointer.latest.tree_size == 3
    finally:
        await checkpointer.stop()
    restarted = Checkpointer(store, database, audit.signer)
    assert await restarted.load_position() == store.head()
    assert restarted.tree_size == 3


async def test_two_checkpointers_never_append_a_leaf_twice(
    store: LedgerStore, writer: Writer, audit: Any, database: Database
) -> None:
    first, second = (Checkpointer(store, database, audit.signer) for _ in range(2))
    await first.load_position()
    await second.load_position()
    await events(writer, 4)
    await first.catch_up()
    await flags(writer, 2)
    await second.catch_up()  # finds the leaves the first one appended, and resumes after them
    await first.catch_up()
    assert [leaf[0] for leaf in await leaves(database)] == list(range(6))
    assert verify_log(store, audit.signer.public_key).ok


async def test_an_embedded_ledger_signs_with_a_key_it_generated(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    store, database = LedgerStore(settings), await open_database(settings)
    try:
        audit = await open_audit(settings, database)
        assert audit.signer is not None
        assert (data_dir / KEY_FILE).exists()
        await events(Writer(store), 1)
        checkpointer = Checkpointer(store, database, audit.signer)
        await checkpointer.catch_up()
        assert (await checkpointer.checkpoint()) is not None
        report = verify_log(store, audit.signer.public_key)
        assert report.ok and report.signature == "valid"
    finally:
        await database.close()
        store.close()


@pytest.mark.postgres
async def test_postgres_without_a_key_writes_unsigned_checkpoints_and_says_so(
    postgres_url: str, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=data_dir, database_url=postgres_url)
    store, database = LedgerStore(settings), await open_database(settings)
    try:
        audit = await open_audit(settings, database)
        assert audit.signer is None
        assert "LEDGER_SIGNING_KEY is not set" in caplog.text
        writer = Writer(store)
        await events(writer, 2)
        writer.close()
        checkpointer = Checkpointer(store, database, None)
        await checkpointer.catch_up()
        checkpoint = await checkpointer.checkpoint()
        assert checkpoint is not None and checkpoint.signature is None
        report = verify_log(store, None)
        assert report.ok and report.signature == "unsigned"
        assert any("not signed" in w for w in report.warnings)
    finally:
        await database.close()
        store.close()


async def test_encrypted_events_are_verified_and_tampering_still_found(
    settings: Settings, signing_key: str
) -> None:
    settings = msgspec.structs.replace(settings, cipher_key=new_key())
    store, database = LedgerStore(settings), await open_database(settings)
    writer = Writer(store)
    try:
        audit = await open_audit(settings, database)
        await events(writer, 4)  # the app, then versions 1..3 of shop/prod
        checkpointer = Checkpointer(store, database, audit.signer)
        await checkpointer.catch_up()
        await checkpointer.checkpoint()
        assert verify_log(store, audit.signer.public_key).ok
        recorder: Any = store.recorder
        table = recorder.events_table_name
        if not settings.embedded:
            table = f"{recorder.datastore.schema}.{table}"
        with recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE originator_version = 2")
        report = verify_log(store, audit.signer.public_key)
        assert not report.ok
        assert any(p.check == "stream" and p.version == 3 for p in report.problems)
    finally:
        writer.close()
        await database.close()
        store.close()
