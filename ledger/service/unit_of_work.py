"""One way through: load what a command needs, decide, record the events (or replay a result)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from ledger.domain import commands as c
from ledger.domain import decisions, policy
from ledger.domain.errors import KeyReused, NotFound
from ledger.domain.events import (
    BuildRecorded,
    ConfigChanged,
    EventRef,
    IdempotencyRecorded,
    LedgerEvent,
    ReleaseCreated,
    Snapshot,
)
from ledger.domain.model import App, Build, Environment, Idempotency, Stream, evolve
from ledger.domain.moments import moment_of, moment_snapshot
from ledger.domain.names import app_id, build_id, denials_id, environment_id, idempotency_id
from ledger.domain.policy import Forbidden, Rules
from ledger.eventstore.application import LedgerStore
from ledger.wire.shapes import BuildView, WriteResult, release_view_of


class FlushFirst(Exception):
    """The command needs the stored past of a stream changed earlier in the same batch."""


class Session:
    """The streams a batch of commands reads and extends; saved together in one transaction."""

    def __init__(
        self,
        store: LedgerStore,
        cache: OrderedDict[UUID, Stream],
        rules: Rules | None = None,
        intervals: tuple[int, int] = (0, 0),
    ) -> None:
        self.store = store
        self.cache = cache
        self.rules = rules or Rules()
        self.snapshot_interval, self.moment_interval = intervals  # 0: none
        self.pending: list[LedgerEvent] = []
        self.touched: set[UUID] = set()
        self.snapshots: list[Snapshot] = []  # saved after the events, when they are
        self.crossed: set[UUID] = set()  # environments to snapshot whole after the save

    def get(self, stream_id: UUID) -> Stream | None:
        state = self.cache.get(stream_id)
        if state is None:
            state = self.store.load(stream_id)
            if state is not None:
                self.cache[stream_id] = state
        return state

    def past(self, stream_id: UUID, version: int) -> Environment | None:
        """An environment as it was at a version (a moment: its open releases only)."""
        if stream_id in self.touched:
            raise FlushFirst
        moment = self.store.moment(stream_id, version)
        return moment.state if moment else None

    def record(self, events: list[LedgerEvent]) -> None:
        for event in events:
            state = evolve(self.cache.get(event.originator_id), event)
            self.cache[event.originator_id] = state
            self.touched.add(event.originator_id)
            self.pending.append(event)
            if isinstance(state, Environment):
                self._snapshot(state, event.timestamp)

    def _snapshot(self, state: Environment, timestamp: datetime) -> None:
        """Environments (long streams) are snapshotted as a moment at exactly every
        ``moment_interval``-th version (reads of the past replay fewer events than that), and
        whole once the batch is saved when they crossed a multiple of ``snapshot_interval``
        (the newest state is what commands load)."""
        if self.moment_interval and state.version % self.moment_interval == 0:
            self.snapshots.append(moment_snapshot(moment_of(state), timestamp))
        if self.snapshot_interval and state.version % self.snapshot_interval == 0:
            self.crossed.add(state.id)


class Decided(msgspec.Struct, kw_only=True):
    """What a command did: its events (none for a repeat) and the answer without its position."""

    events: list[LedgerEvent]
    result: WriteResult
    replay_of: EventRef | None = None
    refusal: Forbidden | None = None  # recorded as denied, then raised to the caller


def handle(session: Session, cmd: c.AnyCommand, ctx: c.Context, now: datetime) -> Decided:
    """Decide one command against the session's streams and record its events there."""
    key = _idempotency_key(cmd, ctx)
    digest = _digest(cmd)
    try:
        policy.check_scope(ctx, cmd)  # before a replay too: a repeat is no way around a scope
        if key is not None:
            record = session.get(idempotency_id(key))
            if isinstance(record, Idempotency):
                return _replay(record, digest, ctx)
        decided = DECIDERS[type(cmd)](session, cmd, ctx, now)
    except Forbidden as refusal:
        denied = decisions.deny(
            session.get(denials_id(cmd.app, _env_of(cmd))), cmd, ctx, now, refusal.detail
        )
        session.record([denied])
        result = WriteResult(position=0, event_id=denied.event_id)
        return Decided(events=[denied], result=result, refusal=refusal)
    events = list(decided.events)
    if key is not None and events:
        events.append(_idempotency_event(key, digest, decided, cmd, ctx, now))
    session.record(events)
    return decided


def _env_of(cmd: c.AnyCommand) -> str | None:
    return cmd.env if isinstance(cmd, c.EnvironmentCommand) else None


def _replay(record: Idempotency, digest: str, ctx: c.Context) -> Decided:
    if record.recorded.request_digest != digest:
        key = ctx.idempotency_key  # as the sender sent it; a run's key holds the request itself
        raise KeyReused(f"idempotency key {key!r} was used before with a different request")
    result = msgspec.json.decode(record.recorded.response, type=WriteResult)
    result.replayed = True
    return Decided(events=[], result=result, replay_of=record.recorded.refs[-1])


def _idempotency_event(
    key: str, digest: str, decided: Decided, cmd: c.AnyCommand, ctx: c.Context, now: datetime
) -> IdempotencyRecorded:
    refs = tuple(EventRef(e.originator_id, e.originator_version) for e in decided.events)
    return decisions.new_event(
        IdempotencyRecorded,
        None,
        idempotency_id(key),
        ctx,
        now,
        app=cmd.app,
        key=key,
        request_digest=digest,
        response=msgspec.json.encode(decided.result).decode(),
        refs=refs,
    )


def _idempotency_key(cmd: c.AnyCommand, ctx: c.Context) -> str | None:
    """The client's key (per actor), else for CI the pipeline run id with the command itself:
    a retried step of a run is recorded once, its other steps each once."""
    if ctx.idempotency_key:
        return client_key(ctx)
    if ctx.actor_kind == "ci" and ctx.correlation_id and isinstance(cmd, c.EnvCommand):
        return f"run:{ctx.actor}:{ctx.correlation_id}:{_digest(cmd)}"
    return None


def client_key(ctx: c.Context) -> str | None:
    """The stored form of the sender's idempotency key: a key is the sender's own (per actor)."""
    return f"key:{ctx.actor}:{ctx.idempotency_key}" if ctx.idempotency_key else None


def _digest(cmd: c.AnyCommand) -> str:
    """The request a command is, as stored with its idempotency key: its type and its fields
    (without the ``op`` tag, which the type already names)."""
    fields = msgspec.structs.asdict(cmd)
    body = type(cmd).__name__.encode() + msgspec.json.encode(fields, order="sorted")
    return hashlib.sha256(body).hexdigest()


def _require_app(session: Session, app: str) -> App:
    state = session.get(app_id(app))
    if not isinstance(state, App):
        raise NotFound(f"app {app!r} does not exist; create it with POST /v1/apps", field="app")
    return state


def _build(session: Session, app: str, bid: str) -> Build | None:
    state = session.get(build_id(app, bid))
    return state if isinstance(state, Build) else None


def _create_app(session: Session, cmd: c.CreateApp, ctx: c.Context, now: datetime) -> Decided:
    existing = session.get(app_id(cmd.app))
    created = decisions.create_app(existing if isinstance(existing, App) else None, cmd, ctx, now)
    return Decided(events=[created], result=WriteResult(position=0, event_id=created.event_id))


EnvironmentDecision = Callable[[Session, Environment | None, Any, c.Context, datetime], LedgerEvent]
PureDecision = Callable[[Environment | None, Any, c.Context, datetime], LedgerEvent]


def _in_environment(decide: EnvironmentDecision) -> Decide:
    """A decision on the environment a command names, in an app that exists."""

    def decided(session: Session, cmd: c.EnvCommand, ctx: c.Context, now: datetime) -> Decided:
        _require_app(session, cmd.app)
        env = _environment_named(session, cmd.app, cmd.env)
        event = decide(session, env, cmd, ctx, now)
        result = WriteResult(position=0, event_id=event.event_id)
        if isinstance(event, ConfigChanged | ReleaseCreated):
            result.release = release_view_of(event)
        return Decided(events=[event], result=result)

    return decided


def _change_config(
    session: Session, env: Environment | None, cmd: c.ChangeConfig, ctx: c.Context, now: datetime
) -> LedgerEvent:
    policy.check_environment(session.rules, ctx, cmd, None, None)
    return decisions.change_config(env, cmd, ctx, now)


def _decided_alone(decide: PureDecision) -> Decide:
    """A decision that needs nothing but the environment."""
    return _in_environment(lambda session, env, cmd, ctx, now: decide(env, cmd, ctx, now))


def _deploy(
    session: Session,
    env: Environment | None,
    cmd: c.Deploy | c.Promote,
    ctx: c.Context,
    now: datetime,
) -> LedgerEvent:
    if isinstance(cmd, c.Promote):
        source = _environment_named(session, cmd.app, cmd.from_env)
        bid = decisions.promoted_build(source, cmd)
    else:
        bid = cmd.build_id
    build = _build(session, cmd.app, bid)
    first = session.rules.promotion_path.get(cmd.env)
    earlier = _environment_named(session, cmd.app, first) if first else None
    policy.check_environment(session.rules, ctx, cmd, build, earlier)
    return decisions.deploy(env, build, cmd, ctx, now, bid=bid)


def _environment_named(session: Session, app: str, env: str) -> Environment | None:
    state = session.get(environment_id(app, env))
    return state if isinstance(state, Environment) else None


def _rollback(
    session: Session, env: Environment | None, cmd: c.Rollback, ctx: c.Context, now: datetime
) -> LedgerEvent:
    target = decisions.rollback_target(env, cmd)
    assert env is not None
    past = session.past(env.id, target.event_version)
    assert past is not None
    return decisions.rollback(env, past, cmd, ctx, now)


def _record_build(session: Session, cmd: c.RecordBuild, ctx: c.Context, now: datetime) -> Decided:
    _require_app(session, cmd.app)
    bid = decisions.build_id_of(cmd)
    existing = _build(session, cmd.app, bid)
    event = decisions.record_build(existing, cmd, ctx, now)
    recorded = event or (existing.recorded if existing else None)
    assert isinstance(recorded, BuildRecorded)
    view = BuildView(
        build_id=recorded.build_id,
        commit=recorded.commit,
        status=recorded.status,
        artifact_digest=recorded.artifact.digest,
        recorded_at=recorded.timestamp,
    )
    if event is None:
        ref = EventRef(recorded.originator_id, recorded.originator_version)
        return Decided(
            events=[],
            result=WriteResult(position=0, event_id=recorded.event_id, build=view, replayed=True),
            replay_of=ref,
        )
    return Decided(
        events=[event], result=WriteResult(position=0, event_id=event.event_id, build=view)
    )


Decide = Callable[[Session, Any, c.Context, datetime], Decided]
DECIDERS: dict[type[c.AnyCommand], Decide] = {
    c.CreateApp: _create_app,
    c.RecordBuild: _record_build,
    c.ChangeConfig: _in_environment(_change_config),
    c.SetFlag: _decided_alone(decisions.set_flag),
    c.Deploy: _in_environment(_deploy),
    c.Promote: _in_environment(_deploy),
    c.ProgressRollout: _decided_alone(decisions.progress_rollout),
    c.ApplyMigration: _decided_alone(decisions.apply_migration),
    c.Rollback: _in_environment(_rollback),
}
"""How each command is decided: the one table from a command's type to its handler."""
