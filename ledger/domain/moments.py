"""Moments: an environment's state as the past is read, small however long its stream.

An environment's full state holds every release it ever had, because the rules look back at
them (rollback targets, promotion paths). Reading the past needs far less: what ran, the
config, the flags, the schema. A moment is the state holding only the releases that may still
change (rolling out or succeeded: no event changes a release once it is superseded, aborted or
failed), and the stream version that created each release (one number a release, to find the
state right after it). It evolves by the same rules as the full state (``apply``), without the
hash chain: a moment is read, never extended, so its ``last_hash`` is empty.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

import msgspec
from msgspec import Struct

from ledger.domain.events import ConfigChanged, LedgerEvent, ReleaseCreated, Snapshot
from ledger.domain.model import Environment, apply


class Moment(Struct, kw_only=True):
    """An environment with its open releases only, and where each release was created."""

    state: Environment
    release_events: list[int] = []  # the stream version that created release v, at v - 1

    def created_at_version(self, version: int) -> int | None:
        """The stream version of the event that created release ``version``."""
        events = self.release_events
        return events[version - 1] if 0 < version <= len(events) else None


def moment_id(stream_id: UUID) -> UUID:
    """The id the moments of a stream are snapshotted under (beside its full snapshots)."""
    return uuid5(stream_id, "moment")


def moment_of(state: Environment) -> Moment:
    """The moment of a full state. It shares the state's config, flags and releases (no copy:
    the writer only stores it): advance it only when the full state is not used after."""
    return Moment(
        state=msgspec.structs.replace(state, releases=state.open_releases(), last_hash=""),
        release_events=[r.event_version for r in state.releases],
    )


def advance(moment: Moment | None, event: LedgerEvent) -> Moment:
    """Apply one event of the environment's stream, dropping the releases it closed."""
    state = apply(moment.state if moment else None, event)
    assert isinstance(state, Environment)
    state.last_hash = ""
    events = moment.release_events if moment else []
    if isinstance(event, ConfigChanged | ReleaseCreated):
        events.append(event.originator_version)
    state.releases = state.open_releases()
    return Moment(state=state, release_events=events)


def replay(start: Moment | None, events: object) -> Moment | None:
    """Advance ``start`` over a sequence of the stream's events."""
    moment = start
    for event in events:  # type: ignore[attr-defined]
        moment = advance(moment, event)
    return moment


def moment_snapshot(moment: Moment, timestamp: datetime) -> Snapshot:
    return Snapshot(
        originator_id=moment_id(moment.state.id),
        originator_version=moment.state.version,
        timestamp=timestamp,
        state=msgspec.json.encode(moment),
    )


def moment_from(snapshot: Snapshot) -> Moment:
    """The moment stored in a snapshot."""
    return msgspec.json.decode(snapshot.state, type=Moment)
