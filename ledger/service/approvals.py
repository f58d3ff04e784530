"""Change requests: approvals counted once per principal, and the last one makes the release
exactly as the original command would have, checked against the ledger as it is then."""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime

from ledger.domain import commands as c
from ledger.domain import decisions
from ledger.domain.decisions.gates import RequestCommand
from ledger.domain.errors import Conflict, DomainError
from ledger.domain.events import LedgerEvent
from ledger.domain.gate_events import ChangeApproved
from ledger.domain.model import Stream, apply
from ledger.domain.requests import ChangeRequest, request_stream
from ledger.service.gating import Approved, through_gates
from ledger.service.session import Decided, Session
from ledger.service.streams import environment_named
from ledger.wire.gates import RequestView, request_view
from ledger.wire.shapes import WriteResult


def approve(session: Session, cmd: c.ApproveRequest, ctx: c.Context, now: datetime) -> Decided:
    request = _pending(session, cmd)
    if request.expired(now):
        return _expired(session, request, ctx, now)
    approved = decisions.approve(request, cmd, ctx, now)
    if approved is None:  # this principal approved before: counted once
        return Decided(events=[], result=_answer(session, request, None, now))
    if approved.approvals < request.required:
        return Decided(events=[approved], result=_answer(session, request, approved, now))
    return _release(session, request, approved, ctx, now)


def reject(session: Session, cmd: c.RejectRequest, ctx: c.Context, now: datetime) -> Decided:
    request = _pending(session, cmd)
    if request.expired(now):
        return _expired(session, request, ctx, now)
    rejected = decisions.reject(request, cmd, ctx, now)
    return Decided(events=[rejected], result=_answer(session, request, rejected, now))


def expire(session: Session, cmd: c.ExpireRequest, ctx: c.Context, now: datetime) -> Decided:
    request = _pending(session, cmd)
    expired = decisions.expire(request, ctx, now)
    return Decided(events=[expired], result=_answer(session, request, expired, now))


def _pending(session: Session, cmd: RequestCommand) -> ChangeRequest:
    state = session.get(request_stream(cmd.request_id))
    return decisions.pending(state if isinstance(state, ChangeRequest) else None, cmd)


def _expired(session: Session, request: ChangeRequest, ctx: c.Context, now: datetime) -> Decided:
    """Too late: the expiry is recorded, and the approval or rejection refused."""
    expired = decisions.expire(request, ctx, now)
    when = request.expires_at.isoformat().replace("+00:00", "Z")
    refusal = Conflict(f"change request {request.request_id} expired at {when}")
    return Decided(
        events=[expired], result=_answer(session, request, expired, now), refusal=refusal
    )


def _release(
    session: Session,
    request: ChangeRequest,
    approved: ChangeApproved,
    ctx: c.Context,
    now: datetime,
) -> Decided:
    """The last approval: the original command, decided now as its requester sent it."""
    approvers = (*(a.actor for a in request.approvals), approved.actor)
    env = environment_named(session, request.app, request.env)
    newest = len(env.releases) if env else 0
    try:
        if newest > request.requested.since_version:
            raise Conflict(f"release v{newest} of {request.app} {request.env} superseded it")
        made = through_gates(
            session, request.command, _requester(request), now,
            Approved(request=request, approvers=approvers),
        )  # fmt: skip
    except DomainError as error:
        failed = decisions.failed(request, approved, ctx, now, error.detail)
        refusal = Conflict(f"change request {request.request_id} failed: {error.detail}")
        return Decided(
            events=[approved, failed],
            result=_answer(session, request, failed, now),
            refusal=refusal,
        )
    version = made.result.release.version if made.result.release else 0
    released = decisions.released(request, approved, ctx, now, version)
    result = made.result
    result.request = _view_after(session, request, [approved, released], now)
    result.event_id = released.event_id
    return Decided(events=[approved, *made.events, released], result=result)


def _requester(request: ChangeRequest) -> c.Context:
    """Who asked for the change, as they asked: the release is theirs."""
    asked = request.requested
    return c.Context(
        actor=asked.actor,
        actor_kind=asked.actor_kind,
        authenticated=asked.authenticated,
        via=asked.via,
        correlation_id=asked.correlation_id,
        traceparent=asked.traceparent,
        tracestate=asked.tracestate,
        scopes=None if asked.scopes is None else frozenset(asked.scopes),
    )


def _answer(
    session: Session, request: ChangeRequest, step: LedgerEvent | None, now: datetime
) -> WriteResult:
    view = _view_after(session, request, [step] if step else [], now)
    return WriteResult(position=0, event_id=step.event_id if step else None, request=view)


def _view_after(
    session: Session, request: ChangeRequest, steps: list[LedgerEvent], now: datetime
) -> RequestView:
    """The request as it will be once these steps are recorded."""
    state: Stream = deepcopy(request)
    for step in steps:
        state = apply(state, step)
    assert isinstance(state, ChangeRequest)
    env = environment_named(session, request.app, request.env)
    return request_view(state, now, env.secret_keys if env else ())
