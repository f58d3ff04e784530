"""Commands: what a client asks the ledger to do, whatever the channel (HTTP, NATS, CLI)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

import msgspec
from msgspec import Meta, Struct

from ledger.domain.events import ActorKind, Artifact, BuildStatus, Pipeline, Strategy, Via
from ledger.domain.names import (
    BUILD_ID_PATTERN,
    CONFIG_KEY_PATTERN,
    FLAG_PATTERN,
    MAX_POSITION,
    NAME_PATTERN,
)
from ledger.domain.policy_document import EvidenceStatus, EvidenceType, PolicyDocument
from ledger.domain.text import Storable

Name = Annotated[str, Meta(pattern=NAME_PATTERN)]
BuildId = Annotated[str, Meta(pattern=BUILD_ID_PATTERN)]
FlagName = Annotated[str, Meta(pattern=FLAG_PATTERN)]
ConfigKey = Annotated[str, Meta(pattern=CONFIG_KEY_PATTERN)]
ConfigValue = Annotated[Storable, Meta(max_length=65536)]
Text = Annotated[Storable, Meta(max_length=4096)]
Percent = Annotated[int, Meta(ge=0, le=100)]
Step = Annotated[int, Meta(ge=1, le=100)]
Token = Annotated[Storable, Meta(min_length=1, max_length=256)]
SchemaVersion = (
    Annotated[Storable, Meta(min_length=1, max_length=128)]
    | Annotated[int, Meta(ge=0, le=MAX_POSITION)]
)
"""A schema version as the migration tool spells it: a string, or a number (Flyway, Alembic,
Rails and golang-migrate number theirs); the ledger stores and returns it as a string."""


TAG = "op"


class Command(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field=TAG):
    """Base of every command; ``op`` names it where commands travel together (a batch)."""

    app: Name


class CreateApp(Command, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="create_app"):
    description: Text | None = None


class RecordBuild(
    Command, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="record_build"
):
    build_id: BuildId | None = None
    commit: Annotated[str, Meta(pattern=r"^[0-9a-fA-F]{4,64}$")]
    branch: Token | None = None
    artifact: Artifact
    stack: Token | None = None
    status: BuildStatus
    pipeline: Pipeline | None = None
    committed_at: datetime | None = None
    finished_at: datetime | None = None


class EnvironmentCommand(Command, frozen=True, kw_only=True, forbid_unknown_fields=True):
    env: Name
    reason: Text | None = None


class ChangeConfig(
    EnvironmentCommand, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="change_config"
):
    set: Annotated[dict[ConfigKey, ConfigValue], Meta(max_length=1000)] = {}
    unset: Annotated[list[ConfigKey], Meta(max_length=1000)] = []
    secret: Annotated[list[ConfigKey], Meta(max_length=1000)] = []
    force: bool = False  # an admin's override of a freeze window, with a reason


class SetFlag(
    EnvironmentCommand, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="set_flag"
):
    flag: FlagName
    enabled: bool
    rollout_percent: Percent | None = None


class Deploy(
    EnvironmentCommand, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="deploy"
):
    build_id: BuildId
    description: Text | None = None
    strategy: Strategy = "all"
    steps: Annotated[list[Step], Meta(max_length=20)] | None = None
    force: bool = False  # an admin's override of a freeze window, with a reason


class ProgressRollout(
    EnvironmentCommand,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    tag="progress_rollout",
):
    version: Annotated[int, Meta(ge=1)]
    percent: Step | None = None
    status: Literal["completed", "aborted", "failed"] | None = None


class ApplyMigration(
    EnvironmentCommand, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="apply_migration"
):
    migration_id: BuildId
    schema_version: SchemaVersion
    reversible: bool
    description: Text | None = None


class Rollback(
    EnvironmentCommand, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="rollback"
):
    reason: Annotated[Storable, Meta(min_length=1, max_length=4096)]
    to_version: Annotated[int, Meta(ge=1)] | None = None
    force: bool = False


class Promote(
    EnvironmentCommand, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="promote"
):
    from_env: Name
    description: Text | None = None
    force: bool = False  # an admin's override of a freeze window, with a reason


RUNTIME_DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
RuntimeDigest = Annotated[str, Meta(pattern=RUNTIME_DIGEST_PATTERN)]
"""An artifact digest a reporter sees: ``sha256:`` and 64 lowercase hex digits."""
InstanceId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,252}$")]


class InstanceReport(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One running instance (a pod, a process): its name, its artifact, since when."""

    id: InstanceId
    artifact_digest: RuntimeDigest
    started_at: datetime | None = None


MAX_APP_INSTANCES = 2000
"""Instances of one app in one report (a report of many apps: at most 5,000 in all)."""
ReporterName = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9:._-]{0,127}$")]


class ReportRuntime(
    EnvironmentCommand, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="report_runtime"
):
    """What one reporter sees of one app in one environment (``complete``: all it sees)."""

    reporter: ReporterName
    observed_at: datetime | None = None
    complete: bool = True
    instances: Annotated[list[InstanceReport], Meta(max_length=MAX_APP_INSTANCES)] = []


POLICY_APP_PATTERN = r"^(\*|[a-z0-9][a-z0-9-]{0,62})$"
PolicyApp = Annotated[str, Meta(pattern=POLICY_APP_PATTERN)]
"""An app, or ``*``: the policy every app inherits."""
REQUEST_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
RequestId = Annotated[str, Meta(pattern=REQUEST_ID_PATTERN)]
Reason = Annotated[Storable, Meta(min_length=1, max_length=4096)]


class SetPolicy(
    EnvironmentCommand, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="set_policy"
):
    """Set one level's policy for an environment (admin); the reason is required."""

    app: PolicyApp
    reason: Reason
    policy: PolicyDocument


class RecordEvidence(
    Command, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="record_evidence"
):
    """Attest something about a build: tests passed, a scan failed, an SBOM, a review."""

    build_id: BuildId
    type: EvidenceType
    status: EvidenceStatus
    url: Annotated[Storable, Meta(max_length=2048)] | None = None
    digest: Annotated[Storable, Meta(max_length=300)] | None = None
    summary: Annotated[Storable, Meta(max_length=1024)] | None = None


class ApproveRequest(
    EnvironmentCommand, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="approve_request"
):
    request_id: RequestId


class RejectRequest(
    EnvironmentCommand, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="reject_request"
):
    request_id: RequestId
    reason: Reason


class ExpireRequest(
    EnvironmentCommand, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="expire_request"
):
    """Record that a pending request outlived its expiry (the ledger's own sweep)."""

    request_id: RequestId


class RefuseDelivery(
    Command, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="refuse_delivery"
):
    """A connector refused a delivery (its signature did not verify): recorded as denied."""

    app: PolicyApp
    connector: Name
    detail: Text


EnvCommand = (
    ChangeConfig
    | SetFlag
    | Deploy
    | ProgressRollout
    | ApplyMigration
    | Rollback
    | Promote
    | ReportRuntime
    | SetPolicy
    | ApproveRequest
    | RejectRequest
    | ExpireRequest
)
AnyCommand = CreateApp | RecordBuild | RecordEvidence | RefuseDelivery | EnvCommand
"""Every command: a union tagged by ``op``, so one decode picks the command a batch item names."""

OPS: dict[str, type[AnyCommand]] = {cls.__struct_config__.tag: cls for cls in get_args(AnyCommand)}
"""Each command by its ``op``."""


class _AnyOne(Struct, frozen=True):
    command: AnyCommand


def command_of(data: object) -> AnyCommand:
    """The command a decoded JSON object names by its ``op``, validated (ValidationError, its
    path from ``$`` as for the object itself). Converting through a struct's field keeps
    msgspec's prepared type of the union; converting to the bare union prepares it on every
    call, ten times slower."""
    try:
        return msgspec.convert({"command": data}, _AnyOne).command
    except msgspec.ValidationError as error:
        at_root = str(error).replace(" - at `$.command`", "", 1)  # as the bare union says it
        raise msgspec.ValidationError(at_root.replace("`$.command", "`$", 1)) from None


BATCHED = {
    op: cls
    for op, cls in OPS.items()
    if cls not in (ApproveRequest, RejectRequest, ExpireRequest, RefuseDelivery)
}
"""The commands a batch may carry: all but the steps of a change request, which name it by id
(``/v1/requests/{request_id}``), and a connector's record of a refused delivery."""


class Context(Struct, frozen=True, kw_only=True):
    """Who sends a command and through which channel; set by the adapter, never by the body."""

    actor: str = "anonymous"
    actor_kind: ActorKind = "human"
    authenticated: bool = False
    via: Via = "http"
    correlation_id: str | None = None
    traceparent: str | None = None  # W3C Trace Context, validated by the adapter
    tracestate: str | None = None
    occurred_at: datetime | None = None
    idempotency_key: str | None = None
    scopes: frozenset[str] | None = None  # None: open mode, no policy applies
