"""A change request: a change that waits for approvals before it creates its release."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from msgspec import Struct, field

from ledger.domain.gate_events import (
    ChangeApproved,
    ChangeExpired,
    ChangeFailed,
    ChangeRejected,
    ChangeReleased,
    ChangeRequested,
    GatedCommand,
    RequestStep,
)
from ledger.domain.stream import Stream

RequestStatus = Literal["pending", "released", "rejected", "expired", "failed"]
Action = Literal["deploy", "promote", "config", "rollback"]


class Approval(Struct, frozen=True, kw_only=True):
    actor: str
    at: datetime
    reason: str | None = None


class ChangeRequest(Stream, kw_only=True):
    """Where a request stands: who asked for what, who approved, and how it ended."""

    request_id: str
    env: str
    requested: ChangeRequested
    status: RequestStatus = "pending"
    approvals: list[Approval] = field(default_factory=list)
    ended_by: str | None = None
    ended_at: datetime | None = None
    detail: str | None = None  # why it was rejected or failed
    version_released: int | None = None

    @property
    def command(self) -> GatedCommand:
        return self.requested.command

    @property
    def requester(self) -> str:
        return self.requested.actor

    @property
    def expires_at(self) -> datetime:
        return self.requested.expires_at

    @property
    def required(self) -> int:
        return self.requested.required

    @property
    def allow_self(self) -> bool:
        return self.requested.allow_self

    @property
    def policy(self) -> str:
        return self.requested.policy

    def approved_by(self, actor: str) -> bool:
        return any(a.actor == actor for a in self.approvals)

    def expired(self, now: datetime) -> bool:
        """Pending past its expiry (before or after the expiry was recorded)."""
        return self.status == "expired" or (self.status == "pending" and now >= self.expires_at)


def action_of(command: GatedCommand) -> Action:
    """What the request would do: deploy, promote, config or rollback."""
    tag = type(command).__struct_config__.tag
    return {"deploy": "deploy", "promote": "promote", "change_config": "config"}.get(
        str(tag), "rollback"
    )  # type: ignore[return-value]


def requested(event: ChangeRequested) -> ChangeRequest:
    assert event.env is not None
    return ChangeRequest(
        id=event.originator_id,
        version=0,
        last_hash="",
        app=event.app,
        env=event.env,
        request_id=event.request_id,
        requested=event,
    )


def stepped(request: ChangeRequest, event: RequestStep) -> ChangeRequest:
    """The request after one of its steps."""
    if isinstance(event, ChangeApproved):
        request.approvals.append(
            Approval(actor=event.actor, at=event.timestamp, reason=event.reason)
        )
        return request
    request.ended_by, request.ended_at = event.actor, event.timestamp
    if isinstance(event, ChangeReleased):
        request.status, request.version_released = "released", event.version
    elif isinstance(event, ChangeRejected):
        request.status, request.detail = "rejected", event.reason
    elif isinstance(event, ChangeExpired):
        request.status = "expired"
    elif isinstance(event, ChangeFailed):
        request.status, request.detail = "failed", event.detail
    return request


def request_stream(request_id: str) -> UUID:
    """The stream of a request: its id is the stream's (a UUID)."""
    return UUID(request_id)
