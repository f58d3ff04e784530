"""The events of the gates: policies, evidence on builds, and change requests with their
approvals. Contract like ``ledger.domain.events``: new fields get defaults, none changes type."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from msgspec import Meta

from ledger.domain import commands as c
from ledger.domain.events import LedgerEvent, Url
from ledger.domain.policy_document import EvidenceStatus, PolicyDocument
from ledger.domain.text import Storable

GatedCommand = c.Deploy | c.Promote | c.ChangeConfig | c.Rollback
"""The commands that create a release, and so pass the gates."""


class PolicyChanged(LedgerEvent, frozen=True, kw_only=True):
    """An admin set one level's policy for an environment (``app`` is ``*`` for every app)."""

    kind: ClassVar[str | None] = "policy"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-policy.changed.0.1.0"

    policy: PolicyDocument


class EvidenceRecorded(LedgerEvent, frozen=True, kw_only=True):
    """An attestation on a build: tests passed, a scan failed, an SBOM, a review."""

    kind: ClassVar[str | None] = "evidence"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-evidence.recorded.0.1.0"

    build_id: str
    type: str
    status: EvidenceStatus
    url: Url | None = None
    digest: Annotated[Storable, Meta(max_length=300)] | None = None
    summary: Annotated[Storable, Meta(max_length=1024)] | None = None


class ChangeRequested(LedgerEvent, frozen=True, kw_only=True):
    """A change that needs approval before it creates a release: the command, kept as sent."""

    kind: ClassVar[str | None] = "request"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-request.created.0.1.0"

    request_id: str
    command: GatedCommand
    scopes: tuple[str, ...] | None = None  # the requester's, to decide the command again
    required: int
    allow_self: bool = False
    expires_at: datetime
    policy: str
    build_id: str | None = None
    since_version: int = 0  # the environment's releases when requested: a newer one supersedes


class ChangeApproved(LedgerEvent, frozen=True, kw_only=True):
    kind: ClassVar[str | None] = "request"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-request.approved.0.1.0"

    request_id: str
    approvals: int  # distinct approvals so far, this one included


class ChangeRejected(LedgerEvent, frozen=True, kw_only=True):
    kind: ClassVar[str | None] = "request"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-request.rejected.0.1.0"

    request_id: str


class ChangeExpired(LedgerEvent, frozen=True, kw_only=True):
    kind: ClassVar[str | None] = "request"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-request.expired.0.1.0"

    request_id: str


class ChangeReleased(LedgerEvent, frozen=True, kw_only=True):
    """The last approval arrived and the change made its release."""

    kind: ClassVar[str | None] = "request"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-request.released.0.1.0"

    request_id: str
    version: int


class ChangeFailed(LedgerEvent, frozen=True, kw_only=True):
    """The last approval arrived but the change may no longer be made (superseded, refused)."""

    kind: ClassVar[str | None] = "request"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-request.failed.0.1.0"

    request_id: str
    detail: str


RequestStep = ChangeApproved | ChangeRejected | ChangeExpired | ChangeReleased | ChangeFailed
"""What can happen to a change request after it was made."""
GATE_EVENTS: tuple[type[LedgerEvent], ...] = (
    PolicyChanged,
    EvidenceRecorded,
    ChangeRequested,
    ChangeApproved,
    ChangeRejected,
    ChangeExpired,
    ChangeReleased,
    ChangeFailed,
)
REQUEST_EVENTS = (
    ChangeRequested,
    ChangeApproved,
    ChangeRejected,
    ChangeExpired,
    ChangeReleased,
    ChangeFailed,
)
