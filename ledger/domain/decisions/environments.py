"""Decisions on an Environment stream: config, flags, rollouts and migrations (its releases by
deploy, promotion and rollback: ``releases``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from ledger.domain import commands as c
from ledger.domain.commitments import commit_secrets
from ledger.domain.decisions.streams import new_event
from ledger.domain.errors import Conflict, Invalid, NotFound
from ledger.domain.events import (
    ConfigChanged,
    FlagChanged,
    LedgerEvent,
    MigrationApplied,
    ReleaseFacts,
    RolloutProgressed,
)
from ledger.domain.model import Environment
from ledger.domain.names import environment_id

E = TypeVar("E", bound=LedgerEvent)


def env_event(
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


def next_version(env: Environment | None) -> int:
    return len(env.releases) + 1 if env else 1


def refuse_during_rollout(env: Environment | None, what: str) -> None:
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
    refuse_during_rollout(env, "changing config")
    unset = tuple(sorted(k for k in cmd.unset if k in config))
    changed = {k: v for k, v in cmd.set.items() if config.get(k) != v}
    declared = set(env.secret_keys) if env else set()
    newly_secret = set(cmd.secret) - declared
    if not changed and not unset and not newly_secret:
        raise Conflict("the config already has these values; no release was created")
    current = env.current() if env else None
    facts = ReleaseFacts(
        version=next_version(env),
        build_id=current.build_id if current else None,
        commit=current.commit if current else None,
        artifact_digest=current.artifact_digest if current else None,
        config_version=(env.latest_config_version if env else 0) + 1,
        status="succeeded",
        rollout_percent=100,
    )
    changed_config = env_event(
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
    return commit_secrets(changed_config, declared)


def set_flag(env: Environment | None, cmd: c.SetFlag, ctx: c.Context, now: datetime) -> FlagChanged:
    return env_event(
        FlagChanged,
        env,
        cmd,
        ctx,
        now,
        flag=cmd.flag,
        enabled=cmd.enabled,
        rollout_percent=cmd.rollout_percent,
    )


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
    return env_event(
        RolloutProgressed, env, cmd, ctx, now, version=cmd.version, percent=percent, status=status
    )


def apply_migration(
    env: Environment | None, cmd: c.ApplyMigration, ctx: c.Context, now: datetime
) -> MigrationApplied:
    if env and any(m.migration_id == cmd.migration_id for m in env.migrations):
        raise Conflict(f"migration {cmd.migration_id!r} was already applied", field="migration_id")
    return env_event(
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
