"""Who may do what, where: scopes per command, protected environments, promotion paths."""

from __future__ import annotations

from msgspec import Struct

from ledger.domain import commands as c
from ledger.domain.errors import DomainError
from ledger.domain.model import GOOD, Build, Environment

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
}


class Forbidden(DomainError):
    """The principal may not do this here; the refusal itself is recorded."""

    title = "Forbidden"


class Rules(Struct, frozen=True, kw_only=True):
    """The policy in force: protected environments and required earlier environments."""

    protected: frozenset[str] = frozenset({"prod", "production"})
    promotion_path: dict[str, str] = {}  # env -> the env a build must have run in first
    drift_grace_seconds: float = 300.0  # how long old instances may run after a release
    unrecorded_is_denied: bool = False  # an unrecorded artifact in a protected env: denied


def has_scope(ctx: c.Context, scope: str) -> bool:
    """Open mode (no scopes known) allows everything; admin implies every scope."""
    return ctx.scopes is None or scope in ctx.scopes or "admin" in ctx.scopes


def check_scope(ctx: c.Context, cmd: c.Command) -> None:
    scope = REQUIRED_SCOPE[type(cmd)]
    if not has_scope(ctx, scope):
        raise Forbidden(f"{ctx.actor} lacks the {scope!r} scope needed to {_verb(cmd)}")


def check_environment(
    rules: Rules,
    ctx: c.Context,
    cmd: c.EnvCommand,
    build: Build | None,
    earlier: Environment | None,
) -> None:
    """Protected environments take deploys and config changes from CI only, with provenance."""
    if ctx.scopes is None:
        return
    if cmd.env in rules.protected and isinstance(cmd, c.Deploy | c.Promote | c.ChangeConfig):
        if ctx.actor_kind != "ci":
            raise Forbidden(f"{cmd.env} is protected: only CI principals may {_verb(cmd)} there")
        if build is not None:
            check_provenance(build, cmd.env)
    first = rules.promotion_path.get(cmd.env)
    if first and build is not None and isinstance(cmd, c.Deploy | c.Promote):
        bid = build.recorded.build_id
        ran = earlier is not None and any(
            r.build_id == bid and r.status in GOOD for r in earlier.releases
        )
        if not ran:
            raise Forbidden(f"build {bid!r} must succeed in {first} before {cmd.env}")


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
    }[type(cmd)]
