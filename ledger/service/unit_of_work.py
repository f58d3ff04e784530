"""One way through: load what a command needs, decide, record the events (or replay a result)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ledger.domain import commands as c
from ledger.domain import decisions, policy
from ledger.domain.artifacts import ArtifactIndex
from ledger.domain.drift import Expectation, expectation
from ledger.domain.errors import NotFound
from ledger.domain.events import (
    BuildRecorded,
    ConfigChanged,
    DriftDetected,
    EventRef,
    LedgerEvent,
    ReleaseCreated,
    RolloutProgressed,
)
from ledger.domain.model import App, Build, Environment, Idempotency
from ledger.domain.names import (
    app_id,
    artifact_id,
    build_id,
    denials_id,
    environment_id,
    idempotency_id,
    runtime_id,
)
from ledger.domain.policy import Forbidden
from ledger.domain.runtime import Runtime
from ledger.service.idempotency import digest, idempotency_event, idempotency_key, replay
from ledger.service.session import Decided, Session
from ledger.wire.shapes import BuildView, WriteResult, release_view_of


def handle(session: Session, cmd: c.AnyCommand, ctx: c.Context, now: datetime) -> Decided:
    """Decide one command against the session's streams and record its events there."""
    key = idempotency_key(cmd, ctx)
    request = digest(cmd)
    try:
        policy.check_scope(ctx, cmd)  # before a replay too: a repeat is no way around a scope
        if key is not None:
            record = session.get(idempotency_id(key))
            if isinstance(record, Idempotency):
                return replay(record, request, ctx)
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
        events.append(idempotency_event(key, request, decided, cmd, ctx, now))
    session.record(events)
    return decided


def _env_of(cmd: c.AnyCommand) -> str | None:
    return cmd.env if isinstance(cmd, c.EnvironmentCommand) else None


def _require_app(session: Session, app: str) -> App:
    state = session.get(app_id(app))
    if not isinstance(state, App):
        raise NotFound(f"app {app!r} does not exist; create it with POST /v1/apps", field="app")
    return state


def _build(session: Session, app: str, bid: str) -> Build | None:
    state = session.get(build_id(app, bid))
    return state if isinstance(state, Build) else None


def _artifact(session: Session, app: str, digest: str) -> ArtifactIndex | None:
    state = session.get(artifact_id(app, digest))
    return state if isinstance(state, ArtifactIndex) else None


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
        return Decided(events=[event, *_drift_after(session, env, event, ctx, now)], result=result)

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
    # also when the build was recorded before the index existed; saved before the build's
    # event, so the answer's position is the build's
    index = _artifact(session, cmd.app, recorded.artifact.digest)
    indexed = decisions.index_artifact(index, recorded, ctx, now)
    events: list[LedgerEvent] = [indexed] if indexed else []
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
            events=events,
            result=WriteResult(position=0, event_id=recorded.event_id, build=view, replayed=True),
            replay_of=ref,
        )
    return Decided(
        events=[*events, event],
        result=WriteResult(position=0, event_id=event.event_id, build=view),
    )


def _drift_after(
    session: Session, env: Environment | None, event: LedgerEvent, ctx: c.Context, now: datetime
) -> list[LedgerEvent]:
    """A change of what should run (a release, a rollout step) may make or resolve drift."""
    if not isinstance(event, ConfigChanged | ReleaseCreated | RolloutProgressed):
        return []
    assert event.env is not None
    runtime = _runtime(session, event.app, event.env)
    if runtime is None:
        return []
    after = decisions.line_after(env, event)
    return decisions.reassess(runtime, _expected(session, after), ctx, now)


def _runtime(session: Session, app: str, env: str) -> Runtime | None:
    state = session.get(runtime_id(app, env))
    return state if isinstance(state, Runtime) else None


def _expected(session: Session, env: Environment | None) -> Expectation:
    return expectation(env, timedelta(seconds=session.rules.drift_grace_seconds))


def _report_runtime(
    session: Session, cmd: c.ReportRuntime, ctx: c.Context, now: datetime
) -> Decided:
    _require_app(session, cmd.app)
    env = _environment_named(session, cmd.app, cmd.env)
    digests = {i.artifact_digest for i in cmd.instances}
    unrecorded = frozenset(d for d in digests if not _recorded(session, cmd.app, env, d))
    runtime = _runtime(session, cmd.app, cmd.env)
    expected = _expected(session, env)
    events = decisions.report_runtime(runtime, expected, cmd, unrecorded, ctx, now)
    events += _denied_unrecorded(session, events, cmd.env, ctx, now)
    result = WriteResult(position=0, event_id=events[-1].event_id if events else None)
    return Decided(events=events, result=result)


def _denied_unrecorded(
    session: Session, events: list[LedgerEvent], env: str, ctx: c.Context, now: datetime
) -> list[LedgerEvent]:
    """Where the policy says so, an unrecorded artifact in a protected env is a denied change."""
    rules = session.rules
    detected = events[-1] if events else None
    if ctx.scopes is None or not (rules.unrecorded_is_denied and env in rules.protected):
        return []
    if not isinstance(detected, DriftDetected):
        return []
    denials = session.get(denials_id(detected.app, env))
    denied = decisions.deny_unrecorded(denials, detected, ctx, now)
    return [denied] if denied else []


def _recorded(session: Session, app: str, env: Environment | None, digest: str) -> bool:
    """Whether a build of the app produced the digest: one released in this environment, one
    recorded under an id of its own (the index of artifacts), or the build recorded under the id
    the digest gives (a build recorded without an id)."""
    if env is not None and any(r.artifact_digest == digest for r in env.releases):
        return True
    if _artifact(session, app, digest) is not None:
        return True
    build = _build(session, app, decisions.default_build_id(digest))
    return build is not None and build.recorded.artifact.digest == digest


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
    c.ReportRuntime: _report_runtime,
}
"""How each command is decided: the one table from a command's type to its handler."""
