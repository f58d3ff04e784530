"""Decisions that make a release of an Environment from a build: deploy, promote, roll back."""

from __future__ import annotations

import itertools
from datetime import datetime

from ledger.domain import commands as c
from ledger.domain.commitments import commit_secrets
from ledger.domain.decisions.environments import env_event, next_version, refuse_during_rollout
from ledger.domain.errors import Conflict, Invalid, NotFound, RollbackBlocked
from ledger.domain.events import BuildRecorded, ReleaseCreated, ReleaseFacts
from ledger.domain.model import GOOD, Build, Environment, Release

DEFAULT_CANARY_STEPS = (1, 10, 50, 100)


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
    refuse_during_rollout(env, "deploying")
    steps = _steps(cmd) if isinstance(cmd, c.Deploy) else ()
    facts = ReleaseFacts(
        version=next_version(env),
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
    return env_event(ReleaseCreated, env, cmd, ctx, now, cause=cause, release=facts)


def promoted_build(source: Environment | None, cmd: c.Promote) -> str:
    """The build that runs in the source environment: promotion deploys exactly that artifact."""
    if cmd.from_env == cmd.env:
        raise Invalid("promote from another environment", field="from_env")
    current = source.current() if source else None
    if current is None or current.build_id is None:
        raise NotFound(f"nothing runs in {cmd.app}/{cmd.from_env} to promote", field="from_env")
    return current.build_id


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
        version=next_version(env),
        build_id=target.build_id,
        commit=target.commit,
        artifact_digest=target.artifact_digest,
        config_version=target.config_version,
        status="succeeded",
        rollout_percent=100,
        description=f"rollback to v{target.version}",
        rollback_of=target.version,
    )
    restored = env_event(
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
    return commit_secrets(restored, env.secret_keys)
