"""Whether a change may be made now, with every reason it may not: the same decision and gates
as the command path, run without recording anything (``ledger assert``)."""

from __future__ import annotations

from datetime import datetime

from ledger.domain import commands as c
from ledger.domain import gates, policy
from ledger.domain.errors import DomainError, Refused
from ledger.domain.gate_events import GatedCommand
from ledger.domain.model import Build
from ledger.domain.policy import Rules
from ledger.domain.requests import action_of
from ledger.eventstore.application import LedgerStore
from ledger.service.gating import assess, decide
from ledger.service.session import Session
from ledger.service.streams import build_named, require_app
from ledger.service.writer.cache import StreamCache
from ledger.wire.gates import Assessment, RefusalReason


def assess_change(
    store: LedgerStore, rules: Rules, cmd: GatedCommand, ctx: c.Context, now: datetime
) -> Assessment:
    """Every reason the command would not make its release now, approvals included."""
    session = Session(store, StreamCache(), rules)
    in_force = session.policy(cmd.app, cmd.env)
    reasons: list[RefusalReason] = []
    build: Build | None = None
    try:
        policy.check_scope(ctx, cmd)
    except Refused as refusal:
        reasons.append(_reason(refusal))
    try:
        require_app(session, cmd.app)
        _, build = decide(session, cmd, ctx, now)
    except DomainError as error:
        reasons.append(_reason(error))
        build = _named_build(session, cmd)
    reasons += [_reason(r) for r in assess(session, in_force, cmd, ctx, build, now)]
    needed = gates.approvals_needed(in_force, cmd)
    if needed:
        plural = "" if needed == 1 else "s"
        detail = f"the change waits for {needed} approval{plural} as a change request"
        reasons.append(RefusalReason(gate="approval", detail=detail, policy=in_force.version))
    return Assessment(
        app=cmd.app,
        env=cmd.env,
        action=action_of(cmd),
        build_id=build.recorded.build_id if build else getattr(cmd, "build_id", None),
        allowed=not reasons,
        approvals_required=needed,
        reasons=reasons,
        policy=in_force.version,
    )


def _named_build(session: Session, cmd: GatedCommand) -> Build | None:
    """The build a deploy names, when deciding it failed (it may still lack evidence)."""
    if isinstance(cmd, c.Deploy):
        return build_named(session, cmd.app, cmd.build_id)
    return None


def _reason(error: DomainError) -> RefusalReason:
    if isinstance(error, Refused):
        return RefusalReason(gate=error.gate, detail=error.detail, policy=error.policy)
    return RefusalReason(gate="command", detail=error.detail)
