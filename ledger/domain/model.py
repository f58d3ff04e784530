"""The state of each stream, rebuilt by folding its events (``evolve``)."""

from __future__ import annotations

from datetime import datetime
from functools import singledispatch
from typing import Any

import msgspec
from msgspec import Struct, field

from ledger.domain.artifacts import ArtifactIndex, indexed
from ledger.domain.chain import GENESIS, event_hash
from ledger.domain.events import (
    AppCreated,
    ArtifactIndexed,
    BuildRecorded,
    CommandDenied,
    ConfigChanged,
    DriftDetected,
    DriftResolved,
    FlagChanged,
    IdempotencyRecorded,
    LedgerEvent,
    MigrationApplied,
    ReleaseCause,
    ReleaseCreated,
    ReleaseFacts,
    RolloutProgressed,
    RuntimeObserved,
    Snapshot,
)
from ledger.domain.gate_events import (
    ChangeApproved,
    ChangeExpired,
    ChangeFailed,
    ChangeRejected,
    ChangeReleased,
    ChangeRequested,
    EvidenceRecorded,
    PolicyChanged,
    RequestStep,
)
from ledger.domain.policy_levels import PolicyLevel, policy_level
from ledger.domain.releases import GOOD as GOOD
from ledger.domain.releases import LIVE as LIVE
from ledger.domain.releases import Release as Release
from ledger.domain.releases import release_of as release_of
from ledger.domain.requests import ChangeRequest, requested, stepped
from ledger.domain.runtime import Runtime, observe
from ledger.domain.stream import Stream as Stream


class Flag(Struct, kw_only=True):
    enabled: bool
    rollout_percent: int | None


class Migration(Struct, kw_only=True):
    migration_id: str
    schema_version: str
    reversible: bool
    event_version: int


class App(Stream, kw_only=True):
    description: str | None


class Attestation(Struct, frozen=True, kw_only=True):
    """Evidence on a build, as recorded."""

    type: str
    status: str
    url: str | None = None
    digest: str | None = None
    summary: str | None = None
    actor: str
    recorded_at: datetime


class Build(Stream, kw_only=True):
    recorded: BuildRecorded
    evidence: list[Attestation] = field(default_factory=list)

    def latest_evidence(self) -> dict[str, Attestation]:
        """The newest attestation of each type: what a gate looks at."""
        return {a.type: a for a in self.evidence}


class Idempotency(Stream, kw_only=True):
    recorded: IdempotencyRecorded


class Denials(Stream, kw_only=True):
    count: int = 0


class Environment(Stream, kw_only=True):
    env: str
    releases: list[Release] = field(default_factory=list)
    config: dict[str, str] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)
    config_version: int = 0
    latest_config_version: int = 0
    flags: dict[str, Flag] = field(default_factory=dict)
    schema_version: str | None = None
    migrations: list[Migration] = field(default_factory=list)
    updated_at: datetime | None = None

    def current(self) -> Release | None:
        """What runs now: the newest release that is rolling out or succeeded."""
        return next((r for r in reversed(self.releases) if r.status in LIVE), None)

    def release(self, version: int) -> Release | None:
        """Release ``version``, if this state holds it (a moment holds the open ones only)."""
        index = self.index_of(version)
        return None if index is None else self.releases[index]

    def index_of(self, version: int) -> int | None:
        """Where release ``version`` is in ``releases``, if this state holds it."""
        releases = self.releases
        if 0 < version <= len(releases) and releases[version - 1].version == version:
            return version - 1
        found = (i for i in range(len(releases) - 1, -1, -1) if releases[i].version == version)
        return next(found, None)

    def open_releases(self) -> list[Release]:
        """The releases that may still change (rolling out or succeeded), oldest first.

        Walks back from the newest only as far as the newest superseded one: the success that
        superseded it closed every older release, and nothing reopens a release."""
        found = []
        for release in reversed(self.releases):
            if release.status == "superseded":
                break
            if release.status in LIVE:
                found.append(release)
        return found[::-1]

    def rolling_out(self) -> Release | None:
        newest = self.releases[-1] if self.releases else None
        return newest if newest and newest.status == "rolling_out" else None


def evolve(state: Stream | None, event: LedgerEvent | Snapshot) -> Stream:
    """Apply one event to a stream's state (creating the state on the first event)."""
    if isinstance(event, Snapshot):
        return msgspec.json.decode(
            event.state,
            type=App
            | Build
            | Idempotency
            | Denials
            | Environment
            | Runtime
            | ArtifactIndex
            | PolicyLevel
            | ChangeRequest,
        )
    new = apply(state, event)
    new.last_hash = event_hash(event)
    return new


def apply(state: Stream | None, event: LedgerEvent) -> Stream:
    """``evolve`` without the chain link: the state after the event, ``last_hash`` untouched
    (for reads of the past, which never extend the stream)."""
    new = _apply(event, state)
    new.version = event.originator_version
    return new


def fold(state: Stream | None, events: object) -> Stream | None:
    """The projector function the repository uses: evolve over a sequence of events."""
    for event in events:  # type: ignore[attr-defined]
        state = evolve(state, event)
    return state


def snapshot_of(state: Stream, timestamp: datetime) -> Snapshot:
    return Snapshot(
        originator_id=state.id,
        originator_version=state.version,
        timestamp=timestamp,
        state=msgspec.json.encode(state),
    )


def _base(event: LedgerEvent) -> dict[str, object]:
    return {"id": event.originator_id, "version": 0, "last_hash": GENESIS, "app": event.app}


@singledispatch
def _apply(event: LedgerEvent, state: Stream | None) -> Stream:
    raise TypeError(f"no rule to apply {type(event).__name__}")


@_apply.register
def _(event: AppCreated, state: Stream | None) -> Stream:
    return App(**_base(event), description=event.description)  # type: ignore[arg-type]


@_apply.register
def _(event: BuildRecorded, state: Stream | None) -> Stream:
    return Build(**_base(event), recorded=event)  # type: ignore[arg-type]


@_apply.register
def _(event: EvidenceRecorded, state: Stream | None) -> Stream:
    assert isinstance(state, Build)
    attestation = Attestation(
        type=event.type,
        status=event.status,
        url=event.url,
        digest=event.digest,
        summary=event.summary,
        actor=event.actor,
        recorded_at=event.timestamp,
    )
    state.evidence.append(attestation)
    return state


@_apply.register
def _(event: PolicyChanged, state: Stream | None) -> Stream:
    return policy_level(state, event)


@_apply.register
def _(event: ChangeRequested, state: Stream | None) -> Stream:
    return requested(event)


@_apply.register(ChangeApproved)
@_apply.register(ChangeRejected)
@_apply.register(ChangeExpired)
@_apply.register(ChangeReleased)
@_apply.register(ChangeFailed)
def _(event: RequestStep, state: Stream | None) -> Stream:
    assert isinstance(state, ChangeRequest)
    return stepped(state, event)


@_apply.register
def _(event: IdempotencyRecorded, state: Stream | None) -> Stream:
    return Idempotency(**_base(event), recorded=event)  # type: ignore[arg-type]


@_apply.register
def _(event: ArtifactIndexed, state: Stream | None) -> Stream:
    return indexed(event)


@_apply.register
def _(event: CommandDenied, state: Stream | None) -> Stream:
    denials = state if isinstance(state, Denials) else Denials(**_base(event))  # type: ignore[arg-type]
    denials.count += 1
    return denials


def _environment(event: LedgerEvent, state: Stream | None) -> Environment:
    if state is None:
        state = Environment(**_base(event), env=event.env or "")  # type: ignore[arg-type]
    assert isinstance(state, Environment)
    state.updated_at = event.timestamp
    return state


def _add_release(
    env: Environment, facts: ReleaseFacts, cause: ReleaseCause, event: LedgerEvent
) -> None:
    env.releases.append(release_of(facts, cause, event))
    if facts.status == "succeeded":
        _supersede_older(env, facts.version)


def _supersede_older(env: Environment, version: int) -> None:
    """A release that succeeded supersedes older good ones; a canary cut short is aborted."""
    for release in env.open_releases():
        if release.version >= version:
            break
        if release.status == "succeeded":
            _change(env, release, status="superseded")
        elif release.status == "rolling_out":
            _change(env, release, status="aborted")


def _change(env: Environment, release: Release, **changes: Any) -> None:
    """A release is a value: a change replaces it where it is."""
    index = env.index_of(release.version)
    assert index is not None
    env.releases[index] = msgspec.structs.replace(release, **changes)


@_apply.register(RuntimeObserved)
@_apply.register(DriftDetected)
@_apply.register(DriftResolved)
def _(event: LedgerEvent, state: Stream | None) -> Stream:
    return observe(state, event)


@_apply.register
def _(event: ConfigChanged, state: Stream | None) -> Stream:
    env = _environment(event, state)
    for key in event.unset:
        env.config.pop(key, None)
    env.config.update(event.set)
    # declarations are never taken back: a key once secret stays secret, even unset and set again
    env.secret_keys = sorted({*env.secret_keys, *event.secret_keys})
    env.config_version = env.latest_config_version = event.release.config_version
    _add_release(env, event.release, "config", event)
    return env


@_apply.register
def _(event: ReleaseCreated, state: Stream | None) -> Stream:
    env = _environment(event, state)
    if event.restored_config is not None:
        env.config = dict(event.restored_config)
        env.secret_keys = sorted({*env.secret_keys, *(event.restored_secret_keys or ())})
    env.config_version = event.release.config_version
    _add_release(env, event.release, event.cause, event)
    return env


@_apply.register
def _(event: RolloutProgressed, state: Stream | None) -> Stream:
    env = _environment(event, state)
    release = env.release(event.version)
    if release is None:  # closed (a moment holds open releases only): nothing may change it
        return env
    completed = event.timestamp if event.status == "succeeded" else None
    ended = event.timestamp if event.status in ("aborted", "failed") else None
    _change(
        env,
        release,
        status=event.status,
        rollout_percent=event.percent,
        completed_at=completed,
        ended_at=ended,
    )
    if event.status == "succeeded":
        _supersede_older(env, event.version)
    return env


@_apply.register
def _(event: FlagChanged, state: Stream | None) -> Stream:
    env = _environment(event, state)
    env.flags[event.flag] = Flag(enabled=event.enabled, rollout_percent=event.rollout_percent)
    return env


@_apply.register
def _(event: MigrationApplied, state: Stream | None) -> Stream:
    env = _environment(event, state)
    env.schema_version = event.schema_version
    env.migrations.append(
        Migration(
            migration_id=event.migration_id,
            schema_version=event.schema_version,
            reversible=event.reversible,
            event_version=event.originator_version,
        )
    )
    return env
