"""Wire shapes clients rely on: fields may be added, never renamed or retyped."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from msgspec import Struct

from ledger.domain.events import ActorKind, ConfigChanged, ReleaseCreated, ReleaseStatus, Via
from ledger.domain.model import Release


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


def release_view_of(event: ConfigChanged | ReleaseCreated) -> ReleaseView:
    """The release an event created, as clients see it."""
    r = event.release
    return ReleaseView(
        version=r.version,
        build_id=r.build_id,
        commit=r.commit,
        config_version=r.config_version,
        status=r.status,
        rollout_percent=r.rollout_percent,
        rollback_of=r.rollback_of,
        description=r.description,
        actor=event.actor,
        created_at=event.timestamp,
        artifact_digest=r.artifact_digest,
        strategy=r.strategy,
        cause=event.cause if isinstance(event, ReleaseCreated) else "config",
        promoted_from=r.promoted_from,
    )


def release_view(release: Release) -> ReleaseView:
    """A release of the domain model as clients see it."""
    fields = msgspec.structs.asdict(release)
    del fields["event_version"], fields["steps"]
    return ReleaseView(**fields)
