"""A policy as an admin writes it for one level (an app, or every app): the gates of an
environment, each field inherited when left out."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from ledger.domain.names import NAME_PATTERN
from ledger.domain.windows import FreezeWindow

Name = Annotated[str, Meta(pattern=NAME_PATTERN)]
EvidenceType = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
"""What an attestation is about: tests, scan, sbom, review, provenance or any such name."""
EvidenceStatus = Literal["passed", "failed"]
Unrecorded = Literal["allow", "deny"]


class Approvals(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How many distinct principals approve a change; 0: none."""

    required: Annotated[int, Meta(ge=0, le=20)]
    allow_self: bool = False


class PolicyDocument(
    Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """One level's policy (an app's, or ``*``'s for every app): a field left out is inherited,
    a null or empty one says "none" here."""

    protected: bool | UnsetType = UNSET
    promotion_from: Name | UnsetType | None = UNSET
    approvals: Approvals | UnsetType | None = UNSET
    rollback_needs_approval: bool | UnsetType = UNSET
    freeze: Annotated[list[FreezeWindow], Meta(max_length=50)] | UnsetType = UNSET
    required_evidence: Annotated[list[EvidenceType], Meta(max_length=20)] | UnsetType = UNSET
    unrecorded: Unrecorded | UnsetType = UNSET
