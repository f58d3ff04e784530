"""Two writers (as two API replicas would be) on one store never lose or duplicate a release."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ledger.domain import commands as c
from ledger.domain.errors import Conflict
from ledger.domain.events import Artifact
from ledger.domain.model import Environment
from ledger.domain.names import environment_id
from ledger.eventstore.application import LedgerStore
from ledger.service.writer import Writer
from ledger.settings import Settings

CI = c.Context(actor="ci-bot", actor_kind="ci")


def _prepare(writer: Writer) -> None:
    writer.execute(c.CreateApp(app="shop"), CI)
    for n in (1, 2):
        writer.execute(
            c.RecordBuild(
                app="shop",
                build_id=f"b{n}",
                commit=f"abc{n}def",
                artifact=Artifact(digest=f"sha256:{n:064x}"),
                status="succeeded",
            ),
            CI,
        )


def test_concurrent_deploys_through_two_writers_number_releases_without_gaps(
    settings: Settings,
) -> None:
    stores = [LedgerStore(settings), LedgerStore(settings)]
    writers = [Writer(s) for s in stores]
    _prepare(writers[0])
    deploys = [c.Deploy(app="shop", env="prod", build_id=f"b{n % 2 + 1}") for n in range(80)]

    def send(n: int) -> int:
        result = writers[n % 2].execute(deploys[n], CI)
        assert result.release is not None
        return result.release.version

    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = list(pool.map(send, range(len(deploys))))

    assert sorted(versions) == list(range(1, len(deploys) + 1))
    env = stores[0].load(environment_id("shop", "prod"))
    assert isinstance(env, Environment)
    assert [r.version for r in env.releases] == list(range(1, len(deploys) + 1))
    assert [r.status for r in env.releases].count("succeeded") == 1
    for writer in writers:
        writer.close()
    for store in stores:
        store.close()


def test_a_refused_command_in_a_batch_does_not_fail_the_others(settings: Settings) -> None:
    store = LedgerStore(settings)
    writer = Writer(store)
    _prepare(writer)
    futures = [
        writer.submit(c.Deploy(app="shop", env="prod", build_id="b1"), CI),
        writer.submit(
            c.ApplyMigration(
                app="shop", env="prod", migration_id="m1", schema_version="1", reversible=True
            ),
            CI,
        ),
        writer.submit(
            c.ApplyMigration(
                app="shop", env="prod", migration_id="m1", schema_version="1", reversible=True
            ),
            CI,
        ),
        writer.submit(c.Deploy(app="shop", env="prod", build_id="b2"), CI),
    ]
    outcomes = [f.exception() or f.result() for f in futures]
    assert isinstance(outcomes[2], Conflict)
    assert [o.position for o in outcomes if not isinstance(o, Exception)] == sorted(
        o.position for o in outcomes if not isinstance(o, Exception)
    )
    env = store.load(environment_id("shop", "prod"))
    assert isinstance(env, Environment)
    assert [r.build_id for r in env.releases] == ["b1", "b2"]
    writer.close()
    store.close()


def test_embedded_store_is_durable_sqlite_in_wal_mode(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    store = LedgerStore(Settings(data_dir=tmp_path))
    with store.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2  # FULL
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
    assert (tmp_path / "ledger.sqlite").exists()
    store.close()
