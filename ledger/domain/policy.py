"""Who may do what: the scopes each command needs, and the provenance a protected environment
asks of a build (the gates that use it: ``ledger.domain.gates``)."""

from __future__ import annotations

from msgspec import Struct

from ledger.domain import commands as c
from ledger.domain.errors import Forbidden as Forbidden
from ledger.domain.model import Build

SCOPES = (
    "read",
    "build:write",
    "config:write",
    "flag:write",
    "deploy",
    "rollback",
    "migration:write",
    "secrets:read",
    "runtime:write",
    "approve",
    "admin",
)

REQUIRED_SCOPE: dict[type[c.Command], str] = {
    c.CreateApp: "admin",
    c.RecordBuild: "build:write",
    c.ChangeConfig: "config:write",
    c.SetFlag: "flag:write",
    c.Deploy: "deploy",
    c.Promote: "deploy",
    c.ProgressRollout: "deploy",
    c.ApplyMigration: "migration:write",
    c.Rollback: "rollback",
    c.ReportRuntime: "runtime:write",
    c.SetPolicy: "admin",
    c.RecordEvidence: "build:write",
    c.ApproveRequest: "approve",
    c.RejectRequest: "approve",
    c.ExpireRequest: "admin",
    c.RefuseDelivery: "read",
}


class Rules(Struct, frozen=True, kw_only=True):
    """What the ledger's settings tell the domain: the default policy of environments with
    none recorded (``ledger.domain.policies``), and how long things may take."""

    protected: frozenset[str] = frozenset({"prod", "production"})
    promotion_path: dict[str, str] = {}  # env -> the env a build must have run in first
    drift_grace_seconds: float = 300.0  # how long old instances may run after a release
    unrecorded_is_denied: bool = False  # an unrecorded artifact in a protected env: denied
    request_ttl_seconds: float = 86400.0  # how long a change request waits for approvals


def has_scope(ctx: c.Context, scope: str) -> bool:
    """Open mode (no scopes known) allows everything; admin implies every scope."""
    return ctx.scopes is None or scope in ctx.scopes or "admin" in ctx.scopes


def check_scope(ctx: c.Context, cmd: c.Command) -> None:
    scope = REQUIRED_SCOPE[type(cmd)]
    if not has_scope(ctx, scope):
        raise Forbidden(f"{ctx.actor} lacks the {scope!r} scope needed to {_verb(cmd)}")


def check_provenance(build: Build, env: str) -> None:
    """CI provenance is a pipeline and run recorded by an authenticated CI principal: a build
    that anyone else recorded, or that names no pipeline, never reaches a protected env."""
    recorded = build.recorded
    if recorded.pipeline is None:
        raise Forbidden(
            f"build {recorded.build_id!r} has no CI provenance (pipeline and run); {env} is "
            "protected"
        )
    if recorded.actor_kind != "ci" or not recorded.authenticated:
        raise Forbidden(
            f"build {recorded.build_id!r} was recorded by {recorded.actor!r}, not by an "
            f"authenticated CI principal, so its provenance is unproven; {env} is protected"
        )


def _verb(cmd: c.Command) -> str:
    return {
        c.CreateApp: "create apps",
        c.RecordBuild: "record builds",
        c.ChangeConfig: "change config",
        c.SetFlag: "flip flags",
        c.Deploy: "deploy",
        c.Promote: "promote",
        c.ProgressRollout: "progress rollouts",
        c.ApplyMigration: "record migrations",
        c.Rollback: "roll back",
        c.ReportRuntime: "report what runs",
        c.SetPolicy: "set policies",
        c.RecordEvidence: "record evidence",
        c.ApproveRequest: "approve changes",
        c.RejectRequest: "reject changes",
        c.ExpireRequest: "expire requests",
        c.RefuseDelivery: "refuse deliveries",
    }[type(cmd)]
