"""A command repeated with its Idempotency-Key (or, from CI, its pipeline run) returns the first
result and appends nothing. Runs the one write path (Writer -> handle -> Session) on SQLite
files in tmp_path: fast enough for the unit suite, and nothing of the store is faked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.domain import commands as c
from ledger.domain.errors import Conflict
from ledger.domain.events import Artifact
from ledger.eventstore.application import LedgerStore
from ledger.service.writer import Writer
from ledger.settings import Settings

BOT = c.Context(actor="ci-bot", actor_kind="ci")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LedgerStore]:
    store = LedgerStore(Settings(data_dir=tmp_path))
    yield store
    store.close()


@pytest.fixture
def writer(store: LedgerStore) -> Iterator[Writer]:
    writer = Writer(store)
    writer.execute(c.CreateApp(app="shop"), BOT)
    for bid in ("b1", "b2"):
        build = c.RecordBuild(
            app="shop",
            build_id=bid,
            commit="a1b2c3d",
            status="succeeded",
            artifact=Artifact(digest=f"sha256:{bid}"),
        )
        writer.execute(build, BOT)
    yield writer
    writer.close()


def with_key(key: str) -> c.Context:
    return c.Context(actor="alice", idempotency_key=key)


def ci_run(run_id: str) -> c.Context:
    return c.Context(actor="ci-bot", actor_kind="ci", correlation_id=run_id)


def deploy(bid: str, env: str = "prod", **fields: object) -> c.Deploy:
    return c.Deploy(app="shop", env=env, build_id=bid, **fields)


def test_a_repeat_returns_the_first_result_and_appends_nothing(writer, store) -> None:
    first = writer.execute(deploy("b1"), with_key("k-1"))
    head = store.head()
    again = writer.execute(deploy("b1"), with_key("k-1"))
    assert (first.replayed, again.replayed) == (False, True)
    assert (again.position, again.event_id, again.release) == (
        first.position,
        first.event_id,
        first.release,
    )
    assert store.head() == head


def test_a_repeat_after_other_writes_still_answers_the_first_result(writer, store) -> None:
    first = writer.execute(deploy("b1"), with_key("k-1"))
    writer.execute(deploy("b2"), BOT)
    again = writer.execute(deploy("b1"), with_key("k-1"))
    assert (again.position, again.release.version) == (first.position, 1)


def test_a_repeat_in_the_same_batch_appends_once(writer, store) -> None:
    head = store.head()
    futures = [writer.submit(deploy("b1"), with_key("k-1")) for _ in range(5)]
    results = [f.result() for f in futures]
    assert {(r.position, r.release.version) for r in results} == {(results[0].position, 1)}
    assert [r.replayed for r in results] == [False, True, True, True, True]
    assert store.head() == head + 2  # the release and the idempotency record


def test_the_same_key_with_another_command_is_a_conflict(writer, store) -> None:
    writer.execute(deploy("b1"), with_key("k-1"))
    head = store.head()
    with pytest.raises(Conflict, match="k-1"):
        writer.execute(deploy("b2"), with_key("k-1"))
    assert store.head() == head


def test_the_conflict_names_the_key_as_the_sender_sent_it(writer) -> None:
    writer.execute(deploy("b1"), with_key("k-1"))
    with pytest.raises(Conflict) as refused:
        writer.execute(deploy("b2"), with_key("k-1"))
    assert refused.value.detail == "idempotency key 'k-1' was used before with a different request"


def test_another_key_is_another_command(writer) -> None:
    writer.execute(deploy("b1"), with_key("k-1"))
    second = writer.execute(deploy("b1"), with_key("k-2"))
    assert (second.replayed, second.release.version) == (False, 2)


def test_a_refused_command_leaves_its_key_unused(writer) -> None:
    writer.execute(deploy("b1", strategy="canary"), BOT)
    with pytest.raises(Conflict, match="rolling out"):
        writer.execute(deploy("b2"), with_key("k-1"))
    writer.execute(c.ProgressRollout(app="shop", env="prod", version=1, status="aborted"), BOT)
    retried = writer.execute(deploy("b2"), with_key("k-1"))
    assert (retried.replayed, retried.release.version) == (False, 2)


def test_a_ci_run_repeating_a_deploy_is_answered_from_the_first(writer, store) -> None:
    first = writer.execute(deploy("b1"), ci_run("run-981"))
    head = store.head()
    again = writer.execute(deploy("b1"), ci_run("run-981"))
    assert (again.replayed, again.position, again.release) == (True, first.position, first.release)
    assert store.head() == head


def test_a_ci_run_id_keys_each_environment_apart(writer) -> None:
    writer.execute(deploy("b1", env="staging"), ci_run("run-981"))
    prod = writer.execute(deploy("b1"), ci_run("run-981"))
    assert (prod.replayed, prod.release.version) == (False, 1)


def test_a_run_id_is_no_key_for_people(writer) -> None:
    alice = c.Context(actor="alice", actor_kind="human", correlation_id="run-981")
    writer.execute(deploy("b1"), alice)
    again = writer.execute(deploy("b1"), alice)
    assert (again.replayed, again.release.version) == (False, 2)


def test_a_ci_run_may_walk_its_canary_through_every_step(writer) -> None:
    run = ci_run("run-981")
    writer.execute(deploy("b1", strategy="canary"), run)
    for percent in (10, 50):
        writer.execute(c.ProgressRollout(app="shop", env="prod", version=1, percent=percent), run)
    done = writer.execute(
        c.ProgressRollout(app="shop", env="prod", version=1, status="completed"), run
    )
    assert done.replayed is False


def test_a_ci_run_may_flip_two_flags(writer) -> None:
    run = ci_run("run-981")
    writer.execute(c.SetFlag(app="shop", env="prod", flag="a", enabled=True), run)
    second = writer.execute(c.SetFlag(app="shop", env="prod", flag="b", enabled=True), run)
    assert second.replayed is False


def test_a_ci_run_may_apply_two_migrations(writer) -> None:
    run = ci_run("run-981")
    for migration_id in ("m1", "m2"):
        migrate = c.ApplyMigration(
            app="shop",
            env="prod",
            migration_id=migration_id,
            schema_version=migration_id,
            reversible=True,
        )
        result = writer.execute(migrate, run)
    assert result.replayed is False
