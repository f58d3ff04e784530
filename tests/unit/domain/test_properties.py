"""Any sequence of commands, run through the pure decisions and evolve, keeps the ledger's
invariants; a refused command changes nothing; replaying the events gives the same state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ledger.domain import commands as c
from ledger.domain.chain import GENESIS, event_hash
from ledger.domain.errors import Conflict, DomainError
from ledger.domain.events import (
    Artifact,
    ConfigChanged,
    LedgerEvent,
    ReleaseCreated,
    RolloutProgressed,
)
from ledger.domain.model import GOOD, Environment, evolve, fold, snapshot_of
from ledger.domain.moments import moment_from, moment_of, moment_snapshot, replay
from ledger.wire.shapes import state_view

APP = "shop"
ENVS = ("staging", "prod")
BUILDS = ("b1", "b2", "b3", "b4")
KEYS = ("A", "B", "API_TOKEN", "LICENSE")
CI = c.Context(actor="ci-bot", actor_kind="ci")
SETTINGS = settings(max_examples=200, stateful_step_count=40, deadline=None)

envs = st.sampled_from(ENVS)
config_sets = st.dictionaries(
    st.sampled_from(KEYS), st.sampled_from(["1", "2", "s3cr3t"]), max_size=3
)
key_lists = st.lists(st.sampled_from(KEYS), max_size=2, unique=True)
canary_steps = st.sampled_from([None, [1, 10, 50, 100], [5, 100], [50]])
endings = st.sampled_from([None, "completed", "aborted", "failed"])


class LedgerMachine(RuleBasedStateMachine):
    """Random commands against one app in two environments, checked against a few shadows."""

    new_ledger: Callable[[], Any]

    def __init__(self) -> None:
        super().__init__()
        self.ledger = self.new_ledger()
        self.builds: dict[str, tuple[str, str]] = {}  # build id -> (status, commit)
        self.config_at: dict[tuple[str, int], dict[str, str]] = {}  # config as it was at vK
        self.ever_succeeded: set[tuple[str, int]] = set()
        self.refusal: DomainError | None = None

    def run(self, cmd: c.AnyCommand) -> LedgerEvent | None:
        """Execute; a refusal must leave every stream exactly as it was."""
        before = (len(self.ledger.events), msgspec.json.encode(self.ledger.streams))
        self.refusal = None
        try:
            event = self.ledger.execute(cmd, CI)
        except DomainError as refusal:
            assert (len(self.ledger.events), msgspec.json.encode(self.ledger.streams)) == before
            self.refusal = refusal
            return None
        assert len(self.ledger.events) == before[0] + (event is not None)
        if event is not None:
            self._remember(event)
        return event

    def _remember(self, event: LedgerEvent) -> None:
        env = self.env(event.env) if event.env else None
        release = getattr(event, "release", None)
        if env is not None and release is not None:
            self.config_at[(env.env, release.version)] = dict(env.config)
            if release.status == "succeeded":
                self.ever_succeeded.add((env.env, release.version))
        if isinstance(event, RolloutProgressed) and event.status == "succeeded":
            self.ever_succeeded.add((event.env or "", event.version))

    def env(self, name: str) -> Environment | None:
        return self.ledger.environment(name)

    def newest(self, name: str) -> int:
        env = self.env(name)
        return len(env.releases) if env else 1

    @initialize()
    def two_good_builds(self) -> None:
        self.record_build("b1", "succeeded", "aaaa1111")
        self.record_build("b2", "succeeded", "bbbb2222")

    @rule(
        bid=st.sampled_from(BUILDS),
        status=st.sampled_from(["succeeded", "failed"]),
        commit=st.sampled_from(["aaaa1111", "bbbb2222"]),
    )
    def record_build(self, bid: str, status: str, commit: str) -> None:
        artifact = Artifact(digest=f"sha256:{bid}")
        known = self.builds.setdefault(bid, (status, commit))
        event = self.run(
            c.RecordBuild(app=APP, build_id=bid, commit=commit, artifact=artifact, status=status)
        )
        if event is not None:
            assert self.ledger.stream_events(event.originator_id) == [event]
        elif known == (status, commit):
            assert self.refusal is None, "the same facts again are idempotent"
        else:
            assert isinstance(self.refusal, Conflict)

    @rule(env=envs, values=config_sets, unset=key_lists, secret=key_lists)
    def change_config(
        self, env: str, values: dict[str, str], unset: list[str], secret: list[str]
    ) -> None:
        """A valid change as often as not: unset keys are not set, secret keys are set."""
        unset = [k for k in unset if k not in values]
        secret = [k for k in secret if k in values]
        self.run(c.ChangeConfig(app=APP, env=env, set=values, unset=unset, secret=secret))

    @rule(
        env=envs,
        flag=st.sampled_from(["f1", "f2"]),
        enabled=st.booleans(),
        percent=st.none() | st.integers(0, 100),
    )
    def set_flag(self, env: str, flag: str, enabled: bool, percent: int | None) -> None:
        assert self.run(
            c.SetFlag(app=APP, env=env, flag=flag, enabled=enabled, rollout_percent=percent)
        )

    @rule(env=envs, bid=st.sampled_from(BUILDS), steps=canary_steps)
    def deploy(self, env: str, bid: str, steps: list[int] | None) -> None:
        strategy = "all" if steps is None else "canary"
        event = self.run(c.Deploy(app=APP, env=env, build_id=bid, strategy=strategy, steps=steps))
        if isinstance(event, ReleaseCreated):
            assert self.builds[bid][0] == "succeeded"
            assert event.release.build_id == bid

    def envs_where(self, test: Callable[[Environment], object]) -> list[str]:
        return [e.env for e in self.environments() if test(e)]

    @precondition(lambda self: self.envs_where(Environment.rolling_out))
    @rule(data=st.data(), percent=st.sampled_from([None, 10, 50, 100]), status=endings)
    def progress_canary(self, data: st.DataObject, percent: int | None, status: str | None) -> None:
        env = data.draw(st.sampled_from(self.envs_where(Environment.rolling_out)))
        cmd = c.ProgressRollout(
            app=APP, env=env, version=self.newest(env), percent=percent, status=status
        )
        self.run(cmd)

    @rule(env=envs, version=st.integers(1, 4), status=endings)
    def progress_any(self, env: str, version: int, status: str | None) -> None:
        cmd = c.ProgressRollout(
            app=APP, env=env, version=version, percent=None if status else 20, status=status
        )
        self.run(cmd)

    @rule(env=envs, migration=st.sampled_from(["m1", "m2", "m3"]), reversible=st.booleans())
    def migrate(self, env: str, migration: str, reversible: bool) -> None:
        self.run(
            c.ApplyMigration(
                app=APP,
                env=env,
                migration_id=migration,
                schema_version=migration,
                reversible=reversible,
            )
        )

    def envs_to_roll_back(self) -> list[str]:
        return self.envs_where(lambda e: e.current() and len(e.releases) > 1)

    @precondition(envs_to_roll_back)
    @rule(data=st.data(), force=st.booleans())
    def rollback(self, data: st.DataObject, force: bool) -> None:
        env = data.draw(st.sampled_from(self.envs_to_roll_back()))
        to = data.draw(st.none() | st.integers(1, self.newest(env) + 1))
        event = self.run(c.Rollback(app=APP, env=env, reason="bad", to_version=to, force=force))
        if not isinstance(event, ReleaseCreated):
            return
        state, k = self.env(env), event.release.rollback_of
        target, restored = state.release(k), state.releases[-1]
        assert to is None or k == to
        assert (env, k) in self.ever_succeeded
        pinned = ("build_id", "commit", "artifact_digest", "config_version")
        assert [getattr(restored, f) for f in pinned] == [getattr(target, f) for f in pinned]
        assert state.config == self.config_at[(env, k)]
        crossed = [
            m.migration_id
            for m in state.migrations
            if m.event_version > target.event_version and not m.reversible
        ]
        assert event.crossed_migrations == tuple(crossed)
        assert event.forced == bool(crossed) and (force or not crossed)

    @precondition(lambda self: self.envs_where(Environment.current))
    @rule(data=st.data())
    def promote(self, data: st.DataObject) -> None:
        source = data.draw(st.sampled_from(self.envs_where(Environment.current)))
        destination = next(e for e in ENVS if e != source)
        running = self.env(source).current()
        event = self.run(c.Promote(app=APP, env=destination, from_env=source))
        if isinstance(event, ReleaseCreated):
            assert running is not None and event.release.build_id == running.build_id
            assert event.release.artifact_digest == running.artifact_digest

    @invariant()
    def releases_are_numbered_without_gaps(self) -> None:
        for env in self.environments():
            assert [r.version for r in env.releases] == list(range(1, len(env.releases) + 1))

    @invariant()
    def only_the_newest_release_may_roll_out(self) -> None:
        for env in self.environments():
            rolling = [r.version for r in env.releases if r.status == "rolling_out"]
            assert rolling in ([], [len(env.releases)])

    @invariant()
    def the_current_release_is_the_newest_live_one(self) -> None:
        for env in self.environments():
            live = [r for r in env.releases if r.status in ("rolling_out", "succeeded")]
            assert env.current() == (live[-1] if live else None)
            assert env.open_releases() == live
            assert len([r for r in live if r.status == "succeeded"]) <= 1
            if live:
                assert env.config == self.config_at[(env.env, live[-1].version)]
                assert env.config_version == live[-1].config_version

    @invariant()
    def only_releases_that_once_succeeded_count_as_good(self) -> None:
        for env in self.environments():
            for release in env.releases:
                if release.status in GOOD:
                    assert (env.env, release.version) in self.ever_succeeded, release

    @invariant()
    def secret_declarations_are_never_taken_back(self) -> None:
        for env in self.environments():
            assert env.secret_keys == sorted(set(env.secret_keys))
            declared = {
                k
                for e in self.ledger.events
                if isinstance(e, ConfigChanged) and e.env == env.env
                for k in e.secret_keys
            }
            assert declared <= set(env.secret_keys)

    @invariant()
    def the_newest_event_links_to_its_streams_previous_event(self) -> None:
        """Each step appends at most one event (see ``run``): checking the newest checks all."""
        if not self.ledger.events:
            return
        stream = self.ledger.stream_events(self.ledger.events[-1].originator_id)
        previous = stream[-2] if len(stream) > 1 else None
        assert stream[-1].prev_hash == (event_hash(previous) if previous else GENESIS)
        assert [e.originator_version for e in stream] == list(range(1, len(stream) + 1))

    @invariant()
    def replaying_the_changed_stream_gives_the_same_state(self) -> None:
        """Only the newest event's stream changed in the last step; replay it from scratch."""
        if not self.ledger.events:
            return
        stream_id = self.ledger.events[-1].originator_id
        state = self.ledger.streams[stream_id]
        replayed = fold(None, self.ledger.stream_events(stream_id))
        assert msgspec.json.encode(replayed) == msgspec.json.encode(state)
        from_snapshot = evolve(None, snapshot_of(state, self.ledger.now))
        assert msgspec.json.encode(from_snapshot) == msgspec.json.encode(state)

    @invariant()
    def a_moment_replayed_is_the_moment_of_the_whole_state(self) -> None:
        """Reading the past by moments (open releases only) gives what the whole state gives,
        replayed from the start or from a moment snapshot taken at any version."""
        for env in self.environments():
            events = self.ledger.stream_events(env.id)
            expected = msgspec.json.encode(moment_of(env))
            replayed = replay(None, events)
            assert msgspec.json.encode(replayed) == expected
            assert replayed is not None
            assert state_view(replayed.state, 0) == state_view(env, 0)
            cut = len(events) // 2
            if cut:
                earlier = replay(None, events[:cut])
                assert earlier is not None
                stored = moment_from(moment_snapshot(earlier, self.ledger.now))
                assert msgspec.json.encode(replay(stored, events[cut:])) == expected

    def environments(self) -> list[Environment]:
        return [e for e in (self.env(name) for name in ENVS) if e is not None]


def test_any_sequence_of_commands_keeps_the_ledger_consistent(new_ledger) -> None:
    machine = type("Ledger", (LedgerMachine,), {"new_ledger": staticmethod(new_ledger)})
    run_state_machine_as_test(machine, settings=SETTINGS)
