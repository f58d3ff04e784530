"""One way through: load what a command needs, decide, record the events (or replay a result)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ledger.domain import commands as c
from ledger.domain import decisions, policy
from ledger.domain.errors import Forbidden, Refused
from ledger.domain.events import BuildRecorded, EventRef, LedgerEvent
from ledger.domain.model import App, Environment, Idempotency
from ledger.domain.names import app_id, denials_id, idempotency_id
from ledger.service import approvals, gating
from ledger.service.idempotency import digest, idempotency_event, idempotency_key, replay
from ledger.service.runtime import drift_after, report_runtime
from ledger.service.session import Decided, Session
from ledger.service.streams import artifact_named, build_named, environment_named, require_app
from ledger.wire.shapes import BuildView, WriteResult


def handle(session: Session, cmd: c.AnyCommand, ctx: c.Context, now: datetime) -> Decided:
    """Decide one command against the session's streams and record its events there."""
    key = idempotency_key(cmd, ctx)
    request = digest(cmd)
    try:
        policy.check_scope(ctx, cmd)  # before a replay too: a repeat is no way around a scope
        if key is not None:
            record = session.get(idempotency_id(key))
            if isinstance(record, Idempotency):
                return replay(record, request, ctx)
        decided = DECIDERS[type(cmd)](session, cmd, ctx, now)
    except Refused as refusal:
        return _denied(session, cmd, ctx, now, refusal)
    events = list(decided.events)
    if key is not None and events and decided.refusal is None:
        events.append(idempotency_event(key, request, decided, cmd, ctx, now))
    session.record(events)
    return decided


def _denied(
    session: Session, cmd: c.AnyCommand, ctx: c.Context, now: datetime, refusal: Refused
) -> Decided:
    """A refusal of the policy is recorded (kind denied), then answered."""
    env = cmd.env if isinstance(cmd, c.EnvironmentCommand) else None
    denials = session.get(denials_id(cmd.app, env))
    denied = decisions.deny(denials, cmd, ctx, now, refusal)
    session.record([denied])
    result = WriteResult(position=0, event_id=denied.event_id)
    return Decided(events=[denied], result=result, refusal=refusal)


def _create_app(session: Session, cmd: c.CreateApp, ctx: c.Context, now: datetime) -> Decided:
    existing = session.get(app_id(cmd.app))
    created = decisions.create_app(existing if isinstance(existing, App) else None, cmd, ctx, now)
    return Decided(events=[created], result=WriteResult(position=0, event_id=created.event_id))


PureDecision = Callable[[Environment | None, Any, c.Context, datetime], LedgerEvent]


def _decided_alone(decide: PureDecision) -> Decide:
    """A decision on the environment a command names that needs nothing but that environment."""

    def decided(session: Session, cmd: c.EnvCommand, ctx: c.Context, now: datetime) -> Decided:
        require_app(session, cmd.app)
        env = environment_named(session, cmd.app, cmd.env)
        event = decide(env, cmd, ctx, now)
        result = WriteResult(position=0, event_id=event.event_id)
        return Decided(events=[event, *drift_after(session, env, event, ctx, now)], result=result)

    return decided


def _record_build(session: Session, cmd: c.RecordBuild, ctx: c.Context, now: datetime) -> Decided:
    require_app(session, cmd.app)
    bid = decisions.build_id_of(cmd)
    existing = build_named(session, cmd.app, bid)
    event = decisions.record_build(existing, cmd, ctx, now)
    recorded = event or (existing.recorded if existing else None)
    assert isinstance(recorded, BuildRecorded)
    # also when the build was recorded before the index existed; saved before the build's
    # event, so the answer's position is the build's
    index = artifact_named(session, cmd.app, recorded.artifact.digest)
    indexed = decisions.index_artifact(index, recorded, ctx, now)
    events: list[LedgerEvent] = [indexed] if indexed else []
    view = BuildView(
        build_id=recorded.build_id,
        commit=recorded.commit,
        status=recorded.status,
        artifact_digest=recorded.artifact.digest,
        recorded_at=recorded.timestamp,
    )
    if event is None:
        ref = EventRef(recorded.originator_id, recorded.originator_version)
        return Decided(
            events=events,
            result=WriteResult(position=0, event_id=recorded.event_id, build=view, replayed=True),
            replay_of=ref,
        )
    return Decided(
        events=[*events, event],
        result=WriteResult(position=0, event_id=event.event_id, build=view),
    )


def _refuse_delivery(
    session: Session, cmd: c.RefuseDelivery, ctx: c.Context, now: datetime
) -> Decided:
    """Always refused: the refusal is the record (kind denied) of a delivery that a connector
    could not verify."""
    raise Forbidden(f"connector {cmd.connector!r}: {cmd.detail}", gate="signature")


Decide = Callable[[Session, Any, c.Context, datetime], Decided]
DECIDERS: dict[type[c.AnyCommand], Decide] = {
    c.CreateApp: _create_app,
    c.RecordBuild: _record_build,
    c.RecordEvidence: gating.record_evidence,
    c.ChangeConfig: gating.gated,
    c.SetFlag: _decided_alone(decisions.set_flag),
    c.Deploy: gating.gated,
    c.Promote: gating.gated,
    c.ProgressRollout: _decided_alone(decisions.progress_rollout),
    c.ApplyMigration: _decided_alone(decisions.apply_migration),
    c.Rollback: gating.gated,
    c.ReportRuntime: report_runtime,
    c.SetPolicy: gating.set_policy,
    c.ApproveRequest: approvals.approve,
    c.RejectRequest: approvals.reject,
    c.ExpireRequest: approvals.expire,
    c.RefuseDelivery: _refuse_delivery,
}
"""How each command is decided: the one table from a command's type to its handler."""
