"""Given/When/Then for the domain's rules: a ledger kept in memory that runs the pure decisions
and evolves the streams, so each rule is tested without a database."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Generic, Self, TypeVar
from uuid import UUID

import pytest

from ledger.domain import commands as c
from ledger.domain import decisions
from ledger.domain.events import Artifact, BuildRecorded, LedgerEvent
from ledger.domain.model import App, Build, Environment, Release, Stream, evolve
from ledger.domain.moments import replay
from ledger.domain.names import app_id, build_id, environment_id

APP = "shop"
ENV = "prod"
CI = c.Context(actor="ci-bot", actor_kind="ci")
HUMAN = c.Context(actor="alice", actor_kind="human")
START = datetime(2025, 3, 4, 14, 3, tzinfo=UTC)


environment_of = cache(environment_id)


def commit_of(build: str) -> str:
    """A commit sha that differs per build id."""
    return (build.encode().hex() + "0" * 40)[:40]


def digest_of(build: str) -> str:
    return "sha256:" + (build.encode().hex() + "f" * 64)[:64]


class Ledger:
    """Streams kept in memory; commands go through the pure decisions, events through evolve."""

    def __init__(self) -> None:
        self.events: list[LedgerEvent] = []
        self.streams: dict[UUID, Stream] = {}
        self.now = START

    def execute(self, cmd: c.AnyCommand, ctx: c.Context = CI) -> LedgerEvent | None:
        """Decide the command and append its event (a refusal raises and appends nothing)."""
        self.now += timedelta(seconds=1)
        event = self._decide(cmd, ctx)
        if event is not None:
            self.append(event)
        return event

    def append(self, event: LedgerEvent) -> None:
        self.events.append(event)
        self.streams[event.originator_id] = evolve(self.streams.get(event.originator_id), event)

    def stream_events(self, stream_id: UUID) -> list[LedgerEvent]:
        return [e for e in self.events if e.originator_id == stream_id]

    def environment(self, env: str = ENV) -> Environment | None:
        state = self.streams.get(environment_of(APP, env))
        return state if isinstance(state, Environment) else None

    def past(self, env: str, version: int) -> Environment:
        """The environment replayed up to its event at ``version``: a fresh moment's state,
        as the ledger reads the past."""
        events = self.stream_events(environment_of(APP, env))
        moment = replay(None, [e for e in events if e.originator_version <= version])
        assert moment is not None
        return moment.state

    def build(self, app: str, bid: str) -> Build | None:
        state = self.streams.get(build_id(app, bid))
        return state if isinstance(state, Build) else None

    def _decide(self, cmd: c.AnyCommand, ctx: c.Context) -> LedgerEvent | None:
        now = self.now
        if isinstance(cmd, c.CreateApp):
            existing = self.streams.get(app_id(cmd.app))
            return decisions.create_app(
                existing if isinstance(existing, App) else None, cmd, ctx, now
            )
        if isinstance(cmd, c.RecordBuild):
            existing_build = self.build(cmd.app, decisions.build_id_of(cmd))
            return decisions.record_build(existing_build, cmd, ctx, now)
        env = self.environment(cmd.env)
        if isinstance(cmd, c.ChangeConfig):
            return decisions.change_config(env, cmd, ctx, now)
        if isinstance(cmd, c.SetFlag):
            return decisions.set_flag(env, cmd, ctx, now)
        if isinstance(cmd, c.Deploy):
            build = self.build(cmd.app, cmd.build_id)
            return decisions.deploy(env, build, cmd, ctx, now, bid=cmd.build_id)
        if isinstance(cmd, c.Promote):
            bid = decisions.promoted_build(self.environment(cmd.from_env), cmd)
            return decisions.deploy(env, self.build(cmd.app, bid), cmd, ctx, now, bid=bid)
        if isinstance(cmd, c.ProgressRollout):
            return decisions.progress_rollout(env, cmd, ctx, now)
        if isinstance(cmd, c.ApplyMigration):
            return decisions.apply_migration(env, cmd, ctx, now)
        target = decisions.rollback_target(env, cmd)
        assert env is not None
        return decisions.rollback(env, self.past(cmd.env, target.event_version), cmd, ctx, now)


R = TypeVar("R")


class Verbs(Generic[R]):
    """The commands of the ledger, in the words of the tests."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def _do(self, cmd: c.AnyCommand, ctx: c.Context) -> R:
        raise NotImplementedError

    def app(self, ctx: c.Context = CI) -> R:
        return self._do(c.CreateApp(app=APP), ctx)

    def build(
        self, bid: str | None, *, status: str = "succeeded", commit: str | None = None, **facts: Any
    ) -> R:
        ctx = facts.pop("ctx", CI)
        artifact = facts.pop("artifact", None) or Artifact(digest=digest_of(bid or ""))
        cmd = c.RecordBuild(
            app=APP,
            build_id=bid,
            commit=commit or commit_of(bid or ""),
            artifact=artifact,
            status=status,
            **facts,
        )
        return self._do(cmd, ctx)

    def config(
        self,
        values: dict[str, str] | None = None,
        *,
        unset: Iterable[str] = (),
        secret: Iterable[str] = (),
        env: str = ENV,
        ctx: c.Context = CI,
    ) -> R:
        cmd = c.ChangeConfig(
            app=APP, env=env, set=dict(values or {}), unset=list(unset), secret=list(secret)
        )
        return self._do(cmd, ctx)

    def flag(self, flag: str, enabled: bool, *, percent: int | None = None, env: str = ENV) -> R:
        cmd = c.SetFlag(app=APP, env=env, flag=flag, enabled=enabled, rollout_percent=percent)
        return self._do(cmd, CI)

    def deploy(
        self,
        bid: str,
        *,
        env: str = ENV,
        strategy: str = "all",
        steps: list[int] | None = None,
        ctx: c.Context = CI,
    ) -> R:
        cmd = c.Deploy(app=APP, env=env, build_id=bid, strategy=strategy, steps=steps)
        return self._do(cmd, ctx)

    def rollout(
        self,
        version: int,
        *,
        percent: int | None = None,
        status: str | None = None,
        env: str = ENV,
    ) -> R:
        cmd = c.ProgressRollout(app=APP, env=env, version=version, percent=percent, status=status)
        return self._do(cmd, CI)

    def migration(
        self,
        migration_id: str,
        *,
        reversible: bool,
        schema_version: str | int = "1",
        env: str = ENV,
    ) -> R:
        cmd = c.ApplyMigration(
            app=APP,
            env=env,
            migration_id=migration_id,
            schema_version=schema_version,
            reversible=reversible,
        )
        return self._do(cmd, CI)

    def rollback(
        self,
        *,
        to: int | None = None,
        force: bool = False,
        reason: str = "v-next broke checkout",
        env: str = ENV,
        ctx: c.Context = HUMAN,
    ) -> R:
        cmd = c.Rollback(app=APP, env=env, reason=reason, to_version=to, force=force)
        return self._do(cmd, ctx)

    def promote(self, *, from_env: str, to_env: str) -> R:
        return self._do(c.Promote(app=APP, env=to_env, from_env=from_env), CI)


class Given(Verbs["Given"]):
    """What happened before: each step is recorded through the same decisions."""

    def _do(self, cmd: c.AnyCommand, ctx: c.Context) -> Given:
        self.ledger.execute(cmd, ctx)
        return self

    def releases(self, *builds: str) -> Self:
        """A line of releases deployed one after another (v1, v2, ... of the given builds)."""
        for bid in builds:
            if self.ledger.build(APP, bid) is None:
                self.build(bid)
            self.deploy(bid)
        return self


class When(Verbs[LedgerEvent | None]):
    """The command under test: returns the event it appended (or raises the refusal)."""

    def _do(self, cmd: c.AnyCommand, ctx: c.Context) -> LedgerEvent | None:
        return self.ledger.execute(cmd, ctx)


class Then:
    """What the streams say now."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def environment(self, env: str = ENV) -> Environment:
        state = self.ledger.environment(env)
        assert state is not None, f"no environment {env!r}"
        return state

    def release(self, version: int, env: str = ENV) -> Release:
        release = self.environment(env).release(version)
        assert release is not None, f"no release v{version} in {env!r}"
        return release

    def build(self, bid: str) -> BuildRecorded:
        build = self.ledger.build(APP, bid)
        assert build is not None, f"no build {bid!r}"
        return build.recorded

    def current(self, env: str = ENV) -> Release | None:
        return self.environment(env).current()

    def statuses(self, env: str = ENV) -> dict[int, str]:
        return {r.version: r.status for r in self.environment(env).releases}

    def event_count(self) -> int:
        return len(self.ledger.events)


@pytest.fixture
def new_ledger() -> type[Ledger]:
    """The in-memory ledger itself, for tests that need many fresh ones (property tests)."""
    return Ledger


@pytest.fixture
def ledger(new_ledger: type[Ledger]) -> Ledger:
    return new_ledger()


@pytest.fixture
def given(ledger: Ledger) -> Given:
    return Given(ledger).app()


@pytest.fixture
def when(ledger: Ledger) -> When:
    return When(ledger)


@pytest.fixture
def then(ledger: Ledger) -> Then:
    return Then(ledger)
