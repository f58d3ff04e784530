"""The commands that create a release (deploy, promote, config, rollback), through the gates
of the policy in force: refused, waiting for approval as a change request, or released."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from ledger.domain import commands as c
from ledger.domain import decisions, gates
from ledger.domain.errors import Refused
from ledger.domain.events import ConfigChanged, GateFacts, ReleaseCreated
from ledger.domain.gate_events import GatedCommand
from ledger.domain.model import Build, Environment
from ledger.domain.names import policy_id
from ledger.domain.policies import EVERY_APP, Policy
from ledger.domain.policy_levels import PolicyLevel
from ledger.domain.requests import ChangeRequest, requested
from ledger.service.runtime import drift_after
from ledger.service.session import Decided, Session
from ledger.service.streams import build_named, environment_named, require_app
from ledger.wire.gates import request_view
from ledger.wire.shapes import WriteResult, release_view_of

Made = ConfigChanged | ReleaseCreated


class Approved(msgspec.Struct, frozen=True, kw_only=True):
    """The request whose last approval lets its change through now."""

    request: ChangeRequest
    approvers: tuple[str, ...]


def through_gates(
    session: Session, cmd: GatedCommand, ctx: c.Context, now: datetime, approved: Approved | None
) -> Decided:
    """Decide the change, then pass it through the gates: a release, or a change request."""
    require_app(session, cmd.app)
    env = environment_named(session, cmd.app, cmd.env)
    policy = session.policy(cmd.app, cmd.env)
    made, build = decide(session, cmd, ctx, now)
    refusals = assess(session, policy, cmd, ctx, build, now)
    if refusals:
        raise refusals[0]
    if approved is None and gates.approvals_needed(policy, cmd):
        return _requested(session, env, policy, cmd, ctx, now, build)
    made = _with_gates(made, _facts(policy, ctx, cmd, now, approved))
    result = WriteResult(position=0, event_id=made.event_id, release=release_view_of(made))
    return Decided(events=[made, *drift_after(session, env, made, ctx, now)], result=result)


def assess(
    session: Session,
    policy: Policy,
    cmd: GatedCommand,
    ctx: c.Context,
    build: Build | None,
    now: datetime,
) -> list[Refused]:
    """Every gate the change does not pass now (approvals aside)."""
    first = policy.promotion_from
    earlier = environment_named(session, cmd.app, first) if first else None
    return gates.assess(policy, ctx, cmd, build, earlier, now)


def decide(
    session: Session, cmd: GatedCommand, ctx: c.Context, now: datetime
) -> tuple[Made, Build | None]:
    """The release the command makes as things stand (before the gates), and its build."""
    env = environment_named(session, cmd.app, cmd.env)
    if isinstance(cmd, c.ChangeConfig):
        return decisions.change_config(env, cmd, ctx, now), None
    if isinstance(cmd, c.Rollback):
        target = decisions.rollback_target(env, cmd)
        assert env is not None
        past = session.past(env.id, target.event_version)
        assert past is not None
        return decisions.rollback(env, past, cmd, ctx, now), None
    bid = deployed_build(session, cmd)
    build = build_named(session, cmd.app, bid)
    return decisions.deploy(env, build, cmd, ctx, now, bid=bid), build


def deployed_build(session: Session, cmd: c.Deploy | c.Promote) -> str:
    """The build a deploy names, or the one a promotion takes from its source environment."""
    if isinstance(cmd, c.Promote):
        source = environment_named(session, cmd.app, cmd.from_env)
        return decisions.promoted_build(source, cmd)
    return cmd.build_id


def _requested(
    session: Session,
    env: Environment | None,
    policy: Policy,
    cmd: GatedCommand,
    ctx: c.Context,
    now: datetime,
    build: Build | None,
) -> Decided:
    ttl = timedelta(seconds=session.rules.request_ttl_seconds)
    since = len(env.releases) if env else 0
    bid = build.recorded.build_id if build else None
    secret = env.secret_keys if env else ()
    asked = decisions.request_change(
        cmd, policy, ctx, now, ttl=ttl, build=bid, since_version=since, secret_keys=secret
    )
    view = request_view(requested(asked), now, secret)
    return Decided(
        events=[asked], result=WriteResult(position=0, event_id=asked.event_id, request=view)
    )


def _facts(
    policy: Policy, ctx: c.Context, cmd: GatedCommand, now: datetime, approved: Approved | None
) -> GateFacts | None:
    overrode = gates.overridden(policy, ctx, cmd, now)
    if approved is None and not overrode and policy.version == "defaults":
        return None
    asked = approved.request.requested if approved else None
    return GateFacts(
        policy=policy.version,
        request_id=asked.request_id if asked else None,
        requested_at=asked.timestamp if asked else None,
        approved_by=approved.approvers if approved else (),
        overrode=overrode,
    )


def _with_gates(made: Made, facts: GateFacts | None) -> Made:
    return made if facts is None else msgspec.structs.replace(made, gates=facts)


def gated(session: Session, cmd: GatedCommand, ctx: c.Context, now: datetime) -> Decided:
    """A release-creating command as a client sends it."""
    return through_gates(session, cmd, ctx, now, None)


def set_policy(session: Session, cmd: c.SetPolicy, ctx: c.Context, now: datetime) -> Decided:
    """An admin sets one level's policy: for an app that exists, or for every app (``*``)."""
    if cmd.app != EVERY_APP:
        require_app(session, cmd.app)
    level = session.get(policy_id(cmd.app, cmd.env))
    changed = decisions.set_policy(level if isinstance(level, PolicyLevel) else None, cmd, ctx, now)
    return Decided(events=[changed], result=WriteResult(position=0, event_id=changed.event_id))


def record_evidence(
    session: Session, cmd: c.RecordEvidence, ctx: c.Context, now: datetime
) -> Decided:
    require_app(session, cmd.app)
    recorded = decisions.record_evidence(build_named(session, cmd.app, cmd.build_id), cmd, ctx, now)
    return Decided(events=[recorded], result=WriteResult(position=0, event_id=recorded.event_id))
