"""Wire shapes of the gates: policies, windows, evidence, change requests and assertions."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import msgspec
from msgspec import Struct

from ledger.domain.commands import ChangeConfig, Reason
from ledger.domain.gate_events import GatedCommand
from ledger.domain.model import Attestation, Build
from ledger.domain.policies import Policy
from ledger.domain.policy_document import PolicyDocument
from ledger.domain.requests import ChangeRequest, action_of
from ledger.domain.secrets import is_secret
from ledger.domain.windows import Occurrence


class RequestStepBody(Struct, kw_only=True, forbid_unknown_fields=True):
    """The body of an approval (reason optional) or a rejection (reason required)."""

    reason: Reason | None = None


class PolicyView(Struct, kw_only=True):
    """The policy in force in an environment, and what its own level records."""

    app: str
    env: str
    policy: Policy
    """Every gate, resolved: the app's level over ``*``'s over the ledger's defaults."""
    recorded: PolicyDocument | None = None
    """What this level (``app`` or ``*``) itself records; null: nothing yet."""
    level_version: int = 0
    changed_by: str | None = None
    changed_at: datetime | None = None
    at: datetime | None = None
    frozen: Occurrence | None = None
    """The freeze window in force now (or ``at``), if any."""


class WindowList(Struct, kw_only=True):
    app: str
    env: str
    since: datetime
    until: datetime
    items: list[Occurrence]


class Waiting(Struct, kw_only=True):
    approvals: int


class ApprovalView(Struct, kw_only=True):
    actor: str
    at: datetime
    reason: str | None = None


class RequestView(Struct, kw_only=True, omit_defaults=True):
    """A change request: what it would do, who asked, what it still waits for."""

    id: str
    app: str
    env: str
    action: str
    status: str
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    waiting_for: Waiting
    required: int
    policy: str
    approvals: list[ApprovalView] = []
    build_id: str | None = None
    reason: str | None = None
    command: dict[str, Any] = {}
    ended_by: str | None = None
    ended_at: datetime | None = None
    detail: str | None = None
    release_version: int | None = None


class RequestList(Struct, kw_only=True):
    items: list[RequestView]


class RefusalReason(Struct, kw_only=True, omit_defaults=True):
    gate: str
    detail: str
    policy: str | None = None


class Assessment(Struct, kw_only=True):
    """Whether a change may be made now, and every reason it may not."""

    app: str
    env: str
    action: str
    build_id: str | None
    allowed: bool
    approvals_required: int
    reasons: list[RefusalReason]
    policy: str


class EvidenceView(Struct, kw_only=True, omit_defaults=True):
    type: str
    status: str
    actor: str
    recorded_at: datetime
    url: str | None = None
    digest: str | None = None
    summary: str | None = None


class BuildDetail(Struct, kw_only=True, omit_defaults=True):
    """A build as recorded, with the evidence on it (newest last)."""

    app: str
    build_id: str
    commit: str
    status: str
    artifact_digest: str
    recorded_at: datetime
    recorded_by: str
    evidence: list[EvidenceView] = []
    branch: str | None = None
    pipeline: dict[str, Any] | None = None


HIDDEN = "<secret>"
"""What a change request shows for a secret config value it would set."""


def request_view(
    request: ChangeRequest,
    now: datetime,
    secret_keys: Iterable[str] = (),
    hide: Callable[[str], str] = lambda value: HIDDEN,
) -> RequestView:
    """A request as clients see it (pending past its expiry shows as expired); the secret
    values of a config change (``secret_keys``: those the environment declares) are hidden:
    shown as ``hide`` makes them (the ledger's fingerprints, where they are at hand), and a value
    already shown as a fingerprint (a request read from the views) as it is."""
    status = "expired" if request.expired(now) else request.status
    waiting = max(0, request.required - len(request.approvals)) if status == "pending" else 0
    asked = request.requested
    return RequestView(
        id=request.request_id,
        app=request.app,
        env=request.env,
        action=action_of(asked.command),
        status=status,
        requested_by=asked.actor,
        requested_at=asked.timestamp,
        expires_at=asked.expires_at,
        waiting_for=Waiting(approvals=waiting),
        required=asked.required,
        policy=asked.policy,
        approvals=[
            ApprovalView(actor=a.actor, at=a.at, reason=a.reason) for a in request.approvals
        ],
        build_id=asked.build_id,
        reason=asked.reason,
        command=_shown(asked.command, secret_keys, hide),
        ended_by=request.ended_by,
        ended_at=request.ended_at,
        detail=request.detail,
        release_version=request.version_released,
    )


def build_detail(build: Build) -> BuildDetail:
    recorded = build.recorded
    return BuildDetail(
        app=build.app,
        build_id=recorded.build_id,
        commit=recorded.commit,
        status=recorded.status,
        artifact_digest=recorded.artifact.digest,
        recorded_at=recorded.timestamp,
        recorded_by=recorded.actor,
        evidence=[_evidence(a) for a in build.evidence],
        branch=recorded.branch,
        pipeline=msgspec.to_builtins(recorded.pipeline) if recorded.pipeline else None,
    )


def _evidence(a: Attestation) -> EvidenceView:
    return EvidenceView(
        type=a.type, status=a.status, actor=a.actor, recorded_at=a.recorded_at, url=a.url,
        digest=a.digest, summary=a.summary,
    )  # fmt: skip


def _shown(
    command: GatedCommand, secret_keys: Iterable[str], hide: Callable[[str], str]
) -> dict[str, Any]:
    shown: dict[str, Any] = msgspec.to_builtins(command)
    if isinstance(command, ChangeConfig):
        secret = {*secret_keys, *command.secret}
        shown["set"] = {
            k: _hidden(v, hide) if is_secret(k, secret) else v for k, v in command.set.items()
        }
    return shown


def _hidden(value: str, hide: Callable[[str], str]) -> str:
    return value if FINGERPRINT.fullmatch(value) else hide(value)


FINGERPRINT = re.compile(r"<secret:[0-9a-f]{16}>")
"""A secret's value as the views keep it (``Fingerprints.fingerprint``)."""
