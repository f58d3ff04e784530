"""A release of an environment as it stands now, built from the facts it was created with."""

from __future__ import annotations

from datetime import datetime

import msgspec

from ledger.domain.events import GateFacts, LedgerEvent, ReleaseCause, ReleaseFacts

GOOD = ("succeeded", "superseded")
LIVE = ("rolling_out", "succeeded")


class Release(ReleaseFacts, frozen=True, kw_only=True):
    """A release of an environment as it stands now: the facts it was created with (its
    status and rollout percent as they are now), by what and by whom."""

    cause: ReleaseCause
    actor: str
    created_at: datetime
    event_version: int  # the stream version of the event that created it
    completed_at: datetime | None = None  # when a rollout completed (None: succeeded at once)
    ended_at: datetime | None = None  # when a rollout was aborted or marked failed
    gates: GateFacts | None = None  # approvals and overrides it passed the gates with
    reason: str | None = None  # why it was made (a rollback's reason, a config change's)


def release_of(facts: ReleaseFacts, cause: ReleaseCause, event: LedgerEvent) -> Release:
    """The release an event creates with these facts."""
    return Release(
        **msgspec.structs.asdict(facts),
        cause=cause,
        actor=event.actor,
        created_at=event.timestamp,
        event_version=event.originator_version,
        gates=getattr(event, "gates", None),
        reason=event.reason,
    )
