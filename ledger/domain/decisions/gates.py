"""Decisions of the gates: policies, evidence on builds, change requests and their approvals."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import uuid4

from ledger.domain import commands as c
from ledger.domain.chain import event_hash
from ledger.domain.commitments import commit_secrets
from ledger.domain.decisions.streams import new_event
from ledger.domain.errors import Conflict, Forbidden, Invalid, NotFound
from ledger.domain.events import LedgerEvent
from ledger.domain.gate_events import (
    ChangeApproved,
    ChangeExpired,
    ChangeFailed,
    ChangeRejected,
    ChangeReleased,
    ChangeRequested,
    EvidenceRecorded,
    GatedCommand,
    PolicyChanged,
)
from ledger.domain.model import Build, Stream
from ledger.domain.names import build_id, policy_id
from ledger.domain.policies import Policy
from ledger.domain.policy_levels import PolicyLevel
from ledger.domain.requests import ChangeRequest, request_stream
from ledger.domain.windows import WindowError, check_windows

RequestCommand = c.ApproveRequest | c.RejectRequest | c.ExpireRequest


def set_policy(
    level: PolicyLevel | None, cmd: c.SetPolicy, ctx: c.Context, now: datetime
) -> PolicyChanged:
    """A level's new policy; its freeze windows must be ones the ledger can evaluate."""
    try:
        check_windows(cmd.policy.freeze or [], field="policy.freeze")
    except WindowError as error:
        raise Invalid(str(error), field=error.field) from None
    stream = policy_id(cmd.app, cmd.env)
    return new_event(
        PolicyChanged, level, stream, ctx, now, app=cmd.app, env=cmd.env, reason=cmd.reason,
        policy=cmd.policy,
    )  # fmt: skip


def record_evidence(
    build: Build | None, cmd: c.RecordEvidence, ctx: c.Context, now: datetime
) -> EvidenceRecorded:
    if build is None:
        raise NotFound(f"build {cmd.build_id!r} of {cmd.app} is not recorded", field="build_id")
    return new_event(
        EvidenceRecorded, build, build_id(cmd.app, cmd.build_id), ctx, now, app=cmd.app,
        build_id=cmd.build_id, type=cmd.type, status=cmd.status, url=cmd.url, digest=cmd.digest,
        summary=cmd.summary,
    )  # fmt: skip


def request_change(
    cmd: GatedCommand,
    policy: Policy,
    ctx: c.Context,
    now: datetime,
    *,
    ttl: timedelta,
    build: str | None,
    since_version: int,
    secret_keys: Iterable[str] = (),
) -> ChangeRequested:
    """A change that waits for the approvals the policy asks for (``secret_keys``: those the
    environment declares, whose values a config change commits to)."""
    request_id = str(uuid4())
    approvals = policy.approvals
    asked = new_event(
        ChangeRequested, None, request_stream(request_id), ctx, now, app=cmd.app, env=cmd.env,
        reason=cmd.reason, request_id=request_id, command=cmd,
        scopes=None if ctx.scopes is None else tuple(sorted(ctx.scopes)),
        required=approvals.required if approvals else 0,
        allow_self=approvals.allow_self if approvals else False,
        expires_at=now + ttl, policy=policy.version, build_id=build, since_version=since_version,
    )  # fmt: skip
    return commit_secrets(asked, secret_keys)


def pending(request: ChangeRequest | None, cmd: RequestCommand) -> ChangeRequest:
    """The request a step is for, while it is still pending."""
    if request is None or (request.app, request.env) != (cmd.app, cmd.env):
        raise NotFound(f"change request {cmd.request_id} does not exist", field="request_id")
    if request.status != "pending":
        raise Conflict(f"change request {cmd.request_id} is {request.status}, not pending")
    return request


def approve(
    request: ChangeRequest, cmd: c.ApproveRequest, ctx: c.Context, now: datetime
) -> ChangeApproved | None:
    """One principal's approval, counted once (None: this principal approved before)."""
    if ctx.actor == request.requester and not request.allow_self:
        raise Forbidden(
            f"{ctx.actor} requested this change and may not approve it; another principal "
            "with the 'approve' scope must",
            gate="approval",
            policy=request.policy,
        )
    if request.approved_by(ctx.actor):
        return None
    return _step(
        ChangeApproved, request, ctx, now, cmd.reason, approvals=len(request.approvals) + 1
    )


def reject(
    request: ChangeRequest, cmd: c.RejectRequest, ctx: c.Context, now: datetime
) -> ChangeRejected:
    return _step(ChangeRejected, request, ctx, now, cmd.reason)


def expire(request: ChangeRequest, ctx: c.Context, now: datetime) -> ChangeExpired:
    """A pending request past its expiry: recorded so, once."""
    if now < request.expires_at:
        raise Conflict(f"change request {request.request_id} is not past its expiry")
    return _step(ChangeExpired, request, ctx, now)


def released(
    request: ChangeRequest, after: LedgerEvent, ctx: c.Context, now: datetime, version: int
) -> ChangeReleased:
    """The request made its release (``after``: the approval that let it through)."""
    return _step(ChangeReleased, _after(request, after), ctx, now, version=version)


def failed(
    request: ChangeRequest, after: LedgerEvent, ctx: c.Context, now: datetime, detail: str
) -> ChangeFailed:
    """The request may no longer be made: superseded, or refused as things stand now."""
    return _step(ChangeFailed, _after(request, after), ctx, now, detail=detail)


S = TypeVar("S", bound=LedgerEvent)


class _Next(Stream, kw_only=True):
    """A request's stream one event further on, within the same decision."""

    env: str
    request_id: str


def _after(request: ChangeRequest, event: LedgerEvent) -> _Next:
    return _Next(
        id=request.id, version=event.originator_version, last_hash=event_hash(event),
        app=request.app, env=request.env, request_id=request.request_id,
    )  # fmt: skip


def _step(
    cls: type[S],
    request: ChangeRequest | _Next,
    ctx: c.Context,
    now: datetime,
    reason: str | None = None,
    **fields: Any,
) -> S:
    return new_event(
        cls, request, request.id, ctx, now, app=request.app, env=request.env, reason=reason,
        request_id=request.request_id, **fields,
    )  # fmt: skip
