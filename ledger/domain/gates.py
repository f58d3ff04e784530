"""The gates a change passes before it creates a release: protection, the promotion path,
freeze windows, required evidence, then approvals. Pure: the caller loads what they read."""

from __future__ import annotations

from datetime import datetime

from ledger.domain import commands as c
from ledger.domain.errors import EvidenceMissing, Forbidden, Frozen, Refused
from ledger.domain.gate_events import GatedCommand
from ledger.domain.model import GOOD, Build, Environment
from ledger.domain.policies import Policy
from ledger.domain.policy import check_provenance, has_scope
from ledger.domain.windows import in_force

BUILDS = (c.Deploy, c.Promote)
"""The commands that bring a build: promotion path and evidence apply to them."""
FREEZABLE = (c.Deploy, c.Promote, c.ChangeConfig)
"""Rollbacks pass freezes: they return to a release that ran before."""


def assess(
    policy: Policy,
    ctx: c.Context,
    cmd: GatedCommand,
    build: Build | None,
    earlier: Environment | None,
    now: datetime,
) -> list[Refused]:
    """Every gate the command does not pass, in the order they are checked (approvals aside)."""
    return [
        *_protection(policy, ctx, cmd, build),
        *_promotion(policy, cmd, build, earlier),
        *_freeze(policy, ctx, cmd, now),
        *_evidence(policy, cmd, build),
    ]


def approvals_needed(policy: Policy, cmd: GatedCommand) -> int:
    """How many approvals the change waits for before it makes its release (0: none)."""
    if isinstance(cmd, c.Rollback) and not policy.rollback_needs_approval:
        return 0
    return policy.approvals_required()


def overridden(policy: Policy, ctx: c.Context, cmd: GatedCommand, now: datetime) -> tuple[str, ...]:
    """The freeze window an admin's forced change goes through, if any."""
    window = in_force(policy.freeze, now) if isinstance(cmd, FREEZABLE) else None
    if window is None or not _may_override(ctx, cmd):
        return ()
    return (window.name,)


def _may_override(ctx: c.Context, cmd: GatedCommand) -> bool:
    return bool(getattr(cmd, "force", False) and cmd.reason) and has_scope(ctx, "admin")


def _protection(
    policy: Policy, ctx: c.Context, cmd: GatedCommand, build: Build | None
) -> list[Refused]:
    """A protected environment takes deploys and config changes from CI only, with provenance."""
    if ctx.scopes is None or not policy.protected or isinstance(cmd, c.Rollback):
        return []
    if ctx.actor_kind != "ci":
        verb = "change config" if isinstance(cmd, c.ChangeConfig) else type(cmd).__name__.lower()
        detail = f"{cmd.env} is protected: only CI principals may {verb} there"
        return [Forbidden(detail, gate="protection", policy=policy.version)]
    try:
        if build is not None:
            check_provenance(build, cmd.env)
    except Forbidden as refusal:
        return [Forbidden(refusal.detail, gate="protection", policy=policy.version)]
    return []


def _promotion(
    policy: Policy, cmd: GatedCommand, build: Build | None, earlier: Environment | None
) -> list[Refused]:
    first = policy.promotion_from
    if not first or build is None or not isinstance(cmd, BUILDS):
        return []
    bid = build.recorded.build_id
    if earlier is not None and any(
        r.build_id == bid and r.status in GOOD for r in earlier.releases
    ):
        return []
    detail = f"build {bid!r} must succeed in {first} before {cmd.env}"
    return [Forbidden(detail, gate="promotion", policy=policy.version)]


def _freeze(policy: Policy, ctx: c.Context, cmd: GatedCommand, now: datetime) -> list[Refused]:
    window = in_force(policy.freeze, now) if isinstance(cmd, FREEZABLE) else None
    if window is None or _may_override(ctx, cmd):
        return []
    ends = window.end.isoformat().replace("+00:00", "Z")
    why = f" ({window.reason})" if window.reason else ""
    detail = (
        f"{cmd.app} {cmd.env} is frozen by window {window.name!r}{why} until {ends}; "
        "an admin may override with force and a reason"
    )
    return [Frozen(detail, window=window.name, ends_at=ends, policy=policy.version)]


def _evidence(policy: Policy, cmd: GatedCommand, build: Build | None) -> list[Refused]:
    if not policy.required_evidence or build is None or not isinstance(cmd, BUILDS):
        return []
    latest = build.latest_evidence()
    missing = [t for t in policy.required_evidence if t not in latest]
    failed = [t for t in policy.required_evidence if t in latest and latest[t].status != "passed"]
    if not missing and not failed:
        return []
    parts = [f"no passed {', '.join(missing)}" for _ in missing[:1]]
    parts += [f"{', '.join(failed)} failed" for _ in failed[:1]]
    detail = (
        f"build {build.recorded.build_id!r} lacks required evidence for {cmd.env}: "
        + "; ".join(parts)
    )
    return [EvidenceMissing(detail, missing=missing + failed, policy=policy.version)]
