"""One level's recorded policy for one environment: an app's, or ``*``'s for every app."""

from __future__ import annotations

from datetime import datetime

from ledger.domain.gate_events import PolicyChanged
from ledger.domain.policy_document import PolicyDocument
from ledger.domain.stream import Stream


class PolicyLevel(Stream, kw_only=True):
    """One level's recorded policy for one environment: its document and who set it when."""

    env: str
    document: PolicyDocument
    changed_at: datetime
    changed_by: str


def policy_level(state: Stream | None, event: PolicyChanged) -> PolicyLevel:
    """The level after a change: the document it now holds."""
    assert event.env is not None
    return PolicyLevel(
        id=event.originator_id,
        version=event.originator_version,
        last_hash=state.last_hash if state else "",
        app=event.app,
        env=event.env,
        document=event.policy,
        changed_at=event.timestamp,
        changed_by=event.actor,
    )
