"""Wire shapes clients rely on: fields may be added, never renamed or retyped."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from msgspec import Struct

from ledger.domain.diff import BuildChange, ConfigChange, FlagChange, MigrationChange
from ledger.domain.dora import DoraMetrics
from ledger.domain.errors import DomainError, EvidenceMissing, Frozen, Refused, RollbackBlocked
from ledger.domain.events import (
    ActorKind,
    ConfigChanged,
    GateFacts,
    ReleaseCreated,
    ReleaseStatus,
    Via,
)
from ledger.domain.model import Environment, Release, release_of
from ledger.wire.gates import RequestView
from ledger.wire.runtime import RuntimeView


class ReleaseView(Struct, kw_only=True):
    version: int
    build_id: str | None
    commit: str | None
    config_version: int
    status: ReleaseStatus
    rollout_percent: int
    rollback_of: int | None
    description: str | None
    actor: str
    created_at: datetime
    artifact_digest: str | None = None
    strategy: str = "all"
    cause: str = "deploy"
    promoted_from: str | None = None
    gates: GateFacts | None = None  # the approvals or overrides it was made with
    reason: str | None = None  # why it was made: a rollback's reason, a config change's


class BuildView(Struct, kw_only=True):
    build_id: str
    commit: str
    status: str
    artifact_digest: str
    recorded_at: datetime


class WriteResult(Struct, kw_only=True, omit_defaults=True):
    """The answer to a write: the global position of its last event, and what it made."""

    position: int
    event_id: UUID | None = None
    release: ReleaseView | None = None
    build: BuildView | None = None
    request: RequestView | None = None  # a change that waits for approval (answered 202)
    replayed: bool = False


class FlagView(Struct, kw_only=True):
    enabled: bool
    rollout_percent: int | None


class StateView(Struct, kw_only=True):
    app: str
    env: str
    release: ReleaseView | None
    config: dict[str, str]
    flags: dict[str, FlagView]
    schema_version: str | None
    position: int
    config_version: int = 0
    updated_at: datetime | None = None
    runtime: RuntimeView | None = None  # what runs there, against what should


HistoryKind = Literal[
    "app",
    "build",
    "config",
    "flag",
    "deploy",
    "rollout",
    "migration",
    "rollback",
    "promote",
    "denied",
    "runtime",
    "policy",
    "evidence",
    "request",
]
"""The kinds of change the history records (a HistoryItem's kind), which its filters accept."""


class HistoryItem(Struct, kw_only=True):
    position: int
    event_id: UUID
    app: str
    env: str | None
    kind: str
    actor: str
    actor_kind: ActorKind
    via: Via
    summary: str
    reason: str | None
    recorded_at: datetime
    data: dict[str, Any]
    correlation_id: str | None = None


class HistoryPage(Struct, kw_only=True):
    items: list[HistoryItem]
    next: str | None


class EnvSummary(Struct, kw_only=True):
    env: str
    release: ReleaseView | None
    position: int
    updated_at: datetime | None = None


class AppView(Struct, kw_only=True):
    name: str
    description: str | None
    created_at: datetime
    envs: list[EnvSummary] = []


class AppList(Struct, kw_only=True):
    apps: list[AppView]


class ReleaseList(Struct, kw_only=True):
    releases: list[ReleaseView]


Direction = Literal["forward", "backward", "across"]
"""forward: new is the later release; backward: the earlier; across: two environments."""


class DiffSide(Struct, kw_only=True):
    """One side of a diff: an environment at a release (or now), and where that is in the log."""

    env: str
    release: ReleaseView | None
    schema_version: str | None
    position: int


class DiffView(Struct, kw_only=True):
    """What changes from ``old`` to ``new``; ``direction`` says how the two sides relate."""

    app: str
    old: DiffSide
    new: DiffSide
    direction: Direction
    build: BuildChange | None
    config: list[ConfigChange]
    flags: list[FlagChange]
    migrations: list[MigrationChange]


class EnvironmentDora(Struct, kw_only=True):
    app: str
    env: str
    metrics: DoraMetrics


class DoraView(Struct, kw_only=True):
    """DORA metrics over [since, until) (``days`` long), pooled over the environments in scope;
    across apps, ``environments`` breaks them down per environment."""

    app: str | None
    env: str | None
    since: datetime
    until: datetime
    days: int
    include_config: bool
    metrics: DoraMetrics
    environments: list[EnvironmentDora] = []


class DoraWeek(Struct, kw_only=True):
    """The pooled DORA metrics of one 7-day window [since, until)."""

    since: datetime
    until: datetime
    metrics: DoraMetrics


class DoraWeeks(Struct, kw_only=True):
    """Contiguous 7-day windows, oldest first, the last ending at the series' end: each
    week's metrics are those of /v1/dora?days=7&until= its end, of the same scope."""

    app: str | None
    env: str | None
    include_config: bool
    weeks: list[DoraWeek]


class Caller(Struct, kw_only=True):
    """Who the ledger takes the caller for: what a page needs to offer only what it may do."""

    actor: str
    actor_kind: ActorKind
    authenticated: bool  # false: open mode, the actor is the X-Ledger-Actor header
    scopes: list[str] | None  # null in open mode, where every scope applies


class FieldError(Struct, kw_only=True):
    field: str
    message: str


class Problem(Struct, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] = []
    migrations: list[str] = []
    gate: str | None = None  # the gate of the policy that refused the command
    policy: str | None = None  # the policy version that refused it
    window: str | None = None  # the freeze window in force
    ends_at: str | None = None  # when it ends
    missing: list[str] = []  # evidence the build lacks


PROBLEM_TYPE = "https://release-ledger.dev/problems/"


def problem_type(title: str) -> str:
    """A problem's ``type``: the ledger's problem URL of its title."""
    return PROBLEM_TYPE + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def write_status(result: WriteResult) -> int:
    """201 for a write; 202 for a change that waits for approval as a change request."""
    return 202 if result.request is not None and result.release is None else 201


def domain_problem(error: DomainError) -> Problem:
    """The problem details of a refused command, on any channel (HTTP, batch, NATS)."""
    problem = Problem(
        type=problem_type(error.title),
        title=error.title,
        status=error.status,
        detail=error.detail,
        errors=[FieldError(field=error.field, message=error.detail)] if error.field else [],
    )
    if isinstance(error, RollbackBlocked):
        problem.migrations = list(error.migrations)
    if isinstance(error, Refused):
        problem.gate, problem.policy = error.gate, error.policy
    if isinstance(error, Frozen):
        problem.window, problem.ends_at = error.window, error.ends_at
    if isinstance(error, EvidenceMissing):
        problem.missing = list(error.missing)
    return problem


def release_view_of(event: ConfigChanged | ReleaseCreated) -> ReleaseView:
    """The release an event created, as clients see it."""
    cause = event.cause if isinstance(event, ReleaseCreated) else "config"
    return release_view(release_of(event.release, cause, event))


def release_view(release: Release) -> ReleaseView:
    """A release of the domain model as clients see it: the fields of the wire shape."""
    return ReleaseView(**{name: getattr(release, name) for name in ReleaseView.__struct_fields__})


def state_view(state: Environment, position: int) -> StateView:
    """What a client sees of an environment (its config already redacted as it should be)."""
    current = state.current()
    return StateView(
        app=state.app,
        env=state.env,
        release=release_view(current) if current else None,
        config=dict(state.config),
        flags={n: FlagView(enabled=f.enabled, rollout_percent=f.rollout_percent)
               for n, f in state.flags.items()},
        schema_version=state.schema_version,
        position=position,
        config_version=state.config_version,
        updated_at=state.updated_at,
    )  # fmt: skip
