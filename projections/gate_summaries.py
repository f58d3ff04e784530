"""One-line summaries of the gates' events: policies, evidence and change requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.domain.events import GateFacts, LedgerEvent
from ledger.domain.gate_events import (
    ChangeApproved,
    ChangeExpired,
    ChangeFailed,
    ChangeRejected,
    ChangeReleased,
    ChangeRequested,
    EvidenceRecorded,
    PolicyChanged,
)
from ledger.domain.requests import action_of


def gate_notes(facts: GateFacts | None) -> list[str]:
    """What a release's summary says of the gates it passed: approvers, overridden freezes."""
    if facts is None:
        return []
    notes = [f"approved by {', '.join(facts.approved_by)}"] if facts.approved_by else []
    notes += [f"overriding freeze {name!r}" for name in facts.overrode]
    return notes


def policy_changed(event: PolicyChanged, before: object, context: object) -> str:
    where = "every app" if event.app == "*" else event.app
    reason = f": {event.reason}" if event.reason else ""
    return f"{event.actor} changed the policy of {where} in {event.env}{reason}"


def evidence_recorded(event: EvidenceRecorded, before: object, context: object) -> str:
    return (
        f"{event.actor} recorded {event.type} {event.status} on build {event.build_id} "
        f"of {event.app}"
    )


def change_requested(event: ChangeRequested, before: object, context: object) -> str:
    what = action_of(event.command)
    build = f" build {event.build_id}" if event.build_id else ""
    plural = "" if event.required == 1 else "s"
    return (
        f"{event.actor} requested a {what}{build} of {event.app} to {event.env} — waits for "
        f"{event.required} approval{plural} (request {event.request_id[:8]})"
    )


def change_approved(event: ChangeApproved, before: object, context: object) -> str:
    return f"{event.actor} approved request {event.request_id[:8]} in {event.app} {event.env}"


def change_rejected(event: ChangeRejected, before: object, context: object) -> str:
    reason = f": {event.reason}" if event.reason else ""
    return (
        f"{event.actor} rejected request {event.request_id[:8]} in {event.app} {event.env}{reason}"
    )


def change_expired(event: ChangeExpired, before: object, context: object) -> str:
    return f"request {event.request_id[:8]} in {event.app} {event.env} expired unapproved"


def change_released(event: ChangeReleased, before: object, context: object) -> str:
    return (
        f"request {event.request_id[:8]} in {event.app} {event.env} was approved and released "
        f"as v{event.version}"
    )


def change_failed(event: ChangeFailed, before: object, context: object) -> str:
    return (
        f"request {event.request_id[:8]} in {event.app} {event.env} was approved but failed: "
        f"{event.detail}"
    )


GATE_SUMMARIES: dict[type[LedgerEvent], Callable[[Any, Any, Any], str]] = {
    PolicyChanged: policy_changed,
    EvidenceRecorded: evidence_recorded,
    ChangeRequested: change_requested,
    ChangeApproved: change_approved,
    ChangeRejected: change_rejected,
    ChangeExpired: change_expired,
    ChangeReleased: change_released,
    ChangeFailed: change_failed,
}
