"""The rules: each decision takes the current state and a command and returns the new event,
or raises a DomainError. Pure: the caller loads the state and saves the event."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from ledger.domain import commands as c
from ledger.domain.chain import GENESIS
from ledger.domain.errors import Conflict, Invalid, NotFound, RollbackBlocked
from ledger.domain.events import (
    AppCreated,
    BuildRecorded,
    CommandDenied,
    ConfigChanged,
    FlagChanged,
    LedgerEvent,
    MigrationApplied,
    ReleaseCreated,
    ReleaseFacts,
    RolloutProgressed,
)
from ledger.domain.model import GOOD, App, Build, Environment, Release, Stream
from ledger.domain.names import (
    BUILD_ID_PATTERN,
    app_id,
    build_id,
    check_name,
    denials_id,
    environment_id,
)

E = TypeVar("E", bound=LedgerEvent)
DEFAULT_CANARY_STEPS = (1, 10, 50, 100)


def new_event(
    cls: type[E],
    stream: Stream | None,
    stream_id: UUID,
    ctx: c.Context,
    now: datetime,
    *,
    app: str,
    env: str | None = None,
    reason: str | None = None,
    **fields: Any,
) -> E:
    """An event that extends the stream: next version, the chain link, who/how/when."""
    return cls(
        originator_id=stream_id,
        originator_version=(stream.version if stream else 0) + 1,
        timestamp=now,
        event_id=uuid4(),
        app=app,
        env=env,
        actor=ctx.actor,
        actor_kind=ctx.actor_kind,
        authenticated=ctx.authenticated,
        via=ctx.via,
        reason=reason,
        occurred_at=ctx.occurred_at or now,
        correlation_id=ctx.correlation_id,
        prev_hash=stream.last_hash if stream else GENESIS,
        **fields,
    )


def deny(
    denials: Stream | None, cmd: c.Command, ctx: c.Context, now: datetime, detail: str
) -> CommandDenied:
    """Record a refused command in the app/env's stream of denials."""
    env = getattr(cmd, "env", None)
    return new_event(
        CommandDenied,
        denials,
        denials_id(cmd.app, env),
        ctx,
        now,
        app=cmd.app,
        env=env,
        reason=getattr(cmd, "reason", None),
        command=type(cmd).__name__,
        detail=detail,
    )


def create_app(app: App | None, cmd: c.CreateApp, ctx: c.Context, now: datetime) -> AppCreated:
    if app is not None:
        raise Conflict(f"app {cmd.app!r} already exists", field="name")
    return new_event(
        AppCreated, None, app_id(cmd.app), ctx, now, app=cmd.app, description=cmd.description
    )


def build_id_of(cmd: c.RecordBuild) -> str:
    """The build id: given, else the first 12 hex digits of the artifact digest."""
    return cmd.build_id or cmd.artifact.digest.rpartition(":")[2][:12].lower()


def record_build(
    build: Build | None, cmd: c.RecordBuild, ctx: c.Context, now: datetime
) -> BuildRecorded | None:
    """A new build, or None when the same build was recorded before (idempotent)."""
    bid = check_name(build_id_of(cmd), "build_id", BUILD_ID_PATTERN)
    fields: dict[str, Any] = {
        "build_id": bid,
        "commit": cmd.commit.lower(),
        "branch": cmd.branch,
        "artifact": cmd.artifact,
        "stack": cmd.stack,
        "status": cmd.status,
        "pipeline": cmd.pipeline,
        "committed_at": cmd.committed_at,
        "finished_at": cmd.finished_at,
    }
    if build is not None:
        old = build.recorded
        if any(getattr(old, k) != v for k, v in fields.items()):
            raise Conflict(f"build {bid!r} was recorded before with other facts", field="build_id")
        return None
    return new_event(BuildRecorded, None, build_id(cmd.app, bid), ctx, now, app=cmd.app, **fields)


def _env_event(
    cls: type[E],
    env: Environment | None,
    cmd: c.EnvironmentCommand,
    ctx: c.Context,
    now: datetime,
    **fields: Any,
) -> E:
    return new_event(
        cls,
        env,
        environment_id(cmd.app, cmd.env),
        ctx,
        now,
        app=cmd.app,
        env=cmd.env,
        reason=cmd.reason,
        **fields,
    )


def _next_version(env: Environment | None) -> int:
    return len(env.releases) + 1 if env else 1


def _refuse_during_rollout(env: Environment | None, what: str) -> None:
    rolling = env.rolling_out() if env else None
    if rolling is not None:
        raise Conflict(
            f"release v{rolling.version} is rolling out ({rolling.rollout_percent}%); "
            f"complete or abort it before {what}"
        )


def change_config(
    env: Environment | None, cmd: c.ChangeConfig, ctx: c.Context, now: datetime
) -> ConfigChanged:
    if not cmd.set and not cmd.unset:
        raise Invalid("a config change sets or unsets at least one key", field="set")
    overlap = set(cmd.set) & set(cmd.unset)
    if overlap:
        raise Invalid(f"keys both set and unset: {sorted(overlap)}", field="unset")
    config = dict(env.config) if env else {}
    unknown_secret = set(cmd.secret) - set(cmd.set) - set(config)
    if unknown_secret:
        raise Invalid(f"secret keys that are not set: {sorted(unknown_secret)}", field="secret")
    _refuse_during_rollout(env, "changing config")
    unset = tuple(sorted(k for k in cmd.unset if k in config))
    changed = {k: v for k, v in cmd.set.items() if config.get(k) != v}
    declared = set(env.secret_keys) if env else set()
    newly_secret = set(cmd.secret) - declared
    if not changed and not unset and not newly_secret:
        raise Conflict("the config already has these values; no release was created")
    current = env.current() if env else None
    facts = ReleaseFacts(
        version=_next_version(env),
        build_id=current.build_id if current else None,
        commit=current.commit if current else None,
        artifact_digest=current.artifact_digest if current else None,
        config_version=(env.latest_config_version if env else 0) + 1,
        status="succeeded",
        rollout_percent=100,
    )
    return _env_event(
        ConfigChanged,
        env,
        cmd,
        ctx,
        now,
        set=dict(sorted(cmd.set.items())),
        unset=unset,
        secret_keys=tuple(sorted(set(cmd.secret))),
        release=facts,
    )


def set_flag(env: Environment | None, cmd: c.SetFlag, ctx: c.Context, now: datetime) -> FlagChanged:
    return _env_event(
        FlagChanged,
        env,
        cmd,
        ctx,
        now,
        flag=cmd.flag,
        enabled=cmd.enabled,
        rollout_percent=cmd.rollout_percent,
    )


def _deployable(build: Build | None, app: str, bid: str) -> BuildRecorded:
    if build is None:
        raise NotFound(f"build {bid!r} of app {app!r} was never recorded", field="build_id")
    if build.recorded.status != "succeeded":
        raise Conflict(
            f"build {bid!r} {build.recorded.status}; only succeeded builds deploy", field="build_id"
        )
    return build.recorded


def _steps(cmd: c.Deploy) -> tuple[int, ...]:
    if cmd.strategy == "all":
        if cmd.steps:
            raise Invalid("steps apply to the canary strategy only", field="steps")
        return ()
    steps = tuple(cmd.steps or DEFAULT_CANARY_STEPS)
    if any(b <= a for a, b in itertools.pairwise(steps)):
        raise Invalid("canary steps must increase", field="steps")
    return steps


def deploy(
    env: Environment | None,
    build: Build | None,
    cmd: c.Deploy | c.Promote,
    ctx: c.Context,
    now: datetime,
    *,
    bid: str,
) -> ReleaseCreated:
    """Deploy (or promote) a succeeded build: a new release pinning it and the current config."""
    recorded = _deployable(build, cmd.app, bid)
    _refuse_during_rollout(env, "deploying")
    steps = _steps(cmd) if isinstance(cmd, c.Deploy) else ()
    facts = ReleaseFacts(
        version=_next_version(env),
        build_id=recorded.build_id,
        commit=recorded.commit,
        artifact_digest=recorded.artifact.digest,
        config_version=env.config_version if env else 0,
        status="rolling_out" if steps else "succeeded",
        rollout_percent=steps[0] if steps else 100,
        strategy="canary" if steps else "all",
        steps=steps,
        description=cmd.description,
        promoted_from=cmd.from_env if isinstance(cmd, c.Promote) else None,
    )
    cause = "promote" if isinstance(cmd, c.Promote) else "deploy"
    return _env_event(ReleaseCreated, env, cmd, ctx, now, cause=cause, release=facts)


def promoted_build(source: Environment | None, cmd: c.Promote) -> str:
    """The build that runs in the source environment: promotion deploys exactly that artifact."""
    if cmd.from_env == cmd.env:
        raise Invalid("promote from another environment", field="from_env")
    current = source.current() if source else None
    if current is None or current.build_id is None:
        raise NotFound(f"nothing runs in {cmd.app}/{cmd.from_env} to promote", field="from_env")
    return current.build_id


def progress_rollout(
    env: Environment | None, cmd: c.ProgressRollout, ctx: c.Context, now: datetime
) -> RolloutProgressed:
    release = env.release(cmd.version) if env else None
    if env is None or release is None:
        raise NotFound(f"release v{cmd.version} of {cmd.app}/{cmd.env} does not exist")
    if release.status != "rolling_out":
        raise Conflict(f"release v{cmd.version} is {release.status}, not rolling out")
    if (cmd.percent is None) == (cmd.status is None):
        raise Invalid("give either percent or status", field="percent")
    if cmd.status is None:
        status, percent = "rolling_out", cmd.percent or 0
    else:
        status = "succeeded" if cmd.status == "completed" else cmd.status
        percent = 100 if status == "succeeded" else 0
    return _env_event(
        RolloutProgressed, env, cmd, ctx, now, version=cmd.version, percent=percent, status=status
    )


def apply_migration(
    env: Environment | None, cmd: c.ApplyMigration, ctx: c.Context, now: datetime
) -> MigrationApplied:
    if env and any(m.migration_id == cmd.migration_id for m in env.migrations):
        raise Conflict(f"migration {cmd.migration_id!r} was already applied", field="migration_id")
    return _env_event(
        MigrationApplied,
        env,
        cmd,
        ctx,
        now,
        migration_id=cmd.migration_id,
        schema_version=str(cmd.schema_version),  # a number is stored as its digits
        reversible=cmd.reversible,
        description=cmd.description,
    )


def rollback_target(env: Environment | None, cmd: c.Rollback) -> Release:
    """Release K to roll back to: the one named, else the last good one before the current."""
    current = env.current() if env else None
    if env is None or current is None:
        raise Conflict(f"nothing runs in {cmd.app}/{cmd.env}; there is nothing to roll back")
    if cmd.to_version is None:
        earlier = [r for r in env.releases[: current.version - 1] if r.status in GOOD]
        if not earlier:
            raise Conflict(f"no earlier good release than v{current.version} to roll back to")
        return earlier[-1]
    target = env.release(cmd.to_version)
    if target is None:
        raise NotFound(f"release v{cmd.to_version} does not exist", field="to_version")
    if target.version == current.version:
        raise Conflict(f"v{target.version} is already the current release", field="to_version")
    if target.status not in GOOD:
        raise Conflict(f"v{target.version} never succeeded ({target.status})", field="to_version")
    return target


def rollback(
    env: Environment, past: Environment, cmd: c.Rollback, ctx: c.Context, now: datetime
) -> ReleaseCreated:
    """A new release with K's build and config; ``past`` is the stream replayed up to K."""
    target = past.releases[-1]
    crossed = [m for m in env.migrations if m.event_version > target.event_version]
    irreversible = [m.migration_id for m in crossed if not m.reversible]
    if irreversible and not cmd.force:
        raise RollbackBlocked(
            f"irreversible migrations were applied after v{target.version}: "
            f"{', '.join(irreversible)}; roll back with force and a reason to override",
            irreversible,
        )
    facts = ReleaseFacts(
        version=_next_version(env),
        build_id=target.build_id,
        commit=target.commit,
        artifact_digest=target.artifact_digest,
        config_version=target.config_version,
        status="succeeded",
        rollout_percent=100,
        description=f"rollback to v{target.version}",
        rollback_of=target.version,
    )
    return _env_event(
        ReleaseCreated,
        env,
        cmd,
        ctx,
        now,
        cause="rollback",
        release=facts,
        restored_config=dict(past.config),
        # a key declared secret after K stays secret: declarations are never taken back
        restored_secret_keys=tuple(sorted({*past.secret_keys, *env.secret_keys})),
        forced=bool(irreversible),
        crossed_migrations=tuple(irreversible),
    )
