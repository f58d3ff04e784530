"""Reading the past by moments, on each backend: whatever snapshots a stream has, the state at
every version is the one replayed from its first event, and a rollback restores what it should."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import UTC, datetime

from ledger.domain import commands as c
from ledger.domain.model import Environment, fold, snapshot_of
from ledger.domain.moments import moment_id
from ledger.domain.names import environment_id, runtime_id
from ledger.domain.runtime import Runtime
from ledger.eventstore.application import LedgerStore
from ledger.service.writer import Writer
from ledger.wire.shapes import StateView, state_view

CI = c.Context(actor="ci-bot", actor_kind="ci")
INTERVAL = 3  # a moment snapshot every this many events of an environment
WHOLE = 5  # a whole snapshot once a batch that crosses a multiple of this


def commands(env: str) -> list[c.AnyCommand]:
    """Config releases, flag flips, a secret, a rollback and more releases after it."""
    cmds: list[c.AnyCommand] = [c.CreateApp(app="shop")]
    for i in range(12):
        cmds.append(c.ChangeConfig(app="shop", env=env, set={"A": str(i), "TOKEN": f"t{i % 3}"},
                                   secret=["TOKEN"] if i == 4 else []))  # fmt: skip
        cmds.append(c.SetFlag(app="shop", env=env, flag=f"f{i % 2}", enabled=i % 3 == 0))
    cmds.append(c.Rollback(app="shop", env=env, reason="bad config", to_version=5))
    cmds += [c.ChangeConfig(app="shop", env=env, set={"B": str(i)}) for i in range(4)]
    return cmds


def replayed(store: LedgerStore, env: str, version: int) -> StateView:
    """The state at ``version`` folded from the stream's first event, no snapshot used."""
    stream = environment_id("shop", env)
    state = fold(None, store.events.get(stream, lte=version))
    assert isinstance(state, Environment)
    return state_view(state, 0)


def moment_view(store: LedgerStore, env: str, version: int) -> StateView:
    moment = store.moment(environment_id("shop", env), version)
    assert moment is not None
    return state_view(moment.state, 0)


def test_past_states_from_moments_taken_within_batches(store: LedgerStore) -> None:
    writer = Writer(store, snapshot_interval=WHOLE, moment_interval=INTERVAL)
    try:
        # submitted at once: the writer decides them in batches that cross the interval often
        futures: list[Future[object]] = [writer.submit(cmd, CI) for cmd in commands("prod")]  # type: ignore[misc]
        for future in futures:
            future.result(timeout=30)
    finally:
        writer.close()
    stream = environment_id("shop", "prod")
    assert store.snapshots is not None
    moments = [s.originator_version for s in store.snapshots.get(moment_id(stream))]
    latest = store.moment(stream)
    assert latest is not None
    assert moments == list(range(INTERVAL, latest.state.version + 1, INTERVAL))
    assert list(store.snapshots.get(stream)), "whole snapshots are taken too"
    for version in range(1, latest.state.version + 1):
        assert moment_view(store, "prod", version) == replayed(store, "prod", version), version
    whole = store.load(stream)
    assert isinstance(whole, Environment) and latest.state.release(13) is None  # closed since
    rollback = whole.release(13)
    assert rollback is not None and rollback.rollback_of == 5
    assert latest.state.secret_keys == ["TOKEN"]
    at_rollback = moment_view(store, "prod", rollback.event_version)
    assert at_rollback.config == replayed(store, "prod", latest.created_at_version(5) or 0).config


def test_streams_snapshotted_before_moments_are_read_from_whole_snapshots(
    store: LedgerStore,
) -> None:
    writer = Writer(store, snapshot_interval=0, moment_interval=0)  # no snapshots at all
    try:
        for cmd in commands("staging"):
            writer.execute(cmd, CI)
    finally:
        writer.close()
    stream = environment_id("shop", "staging")
    assert store.snapshots is not None
    whole = store.load(stream, version=10)
    assert isinstance(whole, Environment)
    store.snapshots.put([snapshot_of(whole, datetime.now(UTC))])
    latest = store.moment(stream)
    assert latest is not None and latest.state.version > 10
    for version in range(1, latest.state.version + 1):
        assert moment_view(store, "staging", version) == replayed(store, "staging", version)


def test_runtime_streams_are_snapshotted_and_load_as_replayed(store: LedgerStore) -> None:
    writer = Writer(store, snapshot_interval=WHOLE, moment_interval=INTERVAL)
    digests = ["sha256:" + ch * 64 for ch in "abc"]
    try:
        writer.execute(c.CreateApp(app="shop"), CI)
        for i in range(12):  # each report changes the instance counts: one event each
            instances = [
                c.InstanceReport(id=f"p-{n}", artifact_digest=digests[n % 3]) for n in range(i + 1)
            ]
            report = c.ReportRuntime(app="shop", env="prod", reporter="k8s", instances=instances)
            writer.execute(report, CI)
    finally:
        writer.close()
    stream = runtime_id("shop", "prod")
    assert store.snapshots is not None
    taken = [s.originator_version for s in store.snapshots.get(stream)]
    assert len(taken) >= 2 and taken[0] >= WHOLE, taken  # once a batch that crossed a multiple
    loaded = store.load(stream)
    assert loaded == fold(None, store.events.get(stream))
    assert isinstance(loaded, Runtime) and len(loaded.observations["k8s"].instances) == 12
