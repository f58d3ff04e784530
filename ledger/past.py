"""The past of environments, replayed from the event store: states as they were, and diffs.

Synchronous (eventsourcing is): the HTTP layer runs these in a thread. Every state comes from
``LedgerStore.load`` (snapshots, then the events up to a version), so it follows the domain's
own rules exactly.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from ledger.application import LedgerStore
from ledger.domain.diff import difference
from ledger.domain.errors import Invalid, NotFound
from ledger.domain.model import Environment, Release
from ledger.domain.names import environment_id
from ledger.domain.secrets import redact
from ledger.schemas import DiffSide, DiffView, Direction, StateView, release_view, state_view


class Then(msgspec.Struct, kw_only=True):
    """An environment as it was (``then``, plaintext), and as it is now."""

    then: Environment
    now: Environment
    position: int  # the global position of the last event of ``then``


def current(store: LedgerStore, app: str, env: str) -> Environment:
    """The environment as it is now; NotFound when it has no events."""
    state = store.load(environment_id(app, env))
    if not isinstance(state, Environment):
        raise NotFound(f"{app}/{env} has no events")
    return state


def at_version(store: LedgerStore, now: Environment, version: int) -> Then:
    """The environment replayed up to (and including) its event at ``version``."""
    then = store.load(now.id, version=version)
    assert isinstance(then, Environment)
    return Then(then=then, now=now, position=_position(store, now.id, then.version))


def at_release(store: LedgerStore, app: str, env: str, version: int) -> Then:
    """The environment right after release ``version`` was created."""
    now = current(store, app, env)
    release = now.release(version)
    if release is None:
        raise NotFound(f"release v{version} of {app}/{env} does not exist", field="release")
    return at_version(store, now, release.event_version)


def at_position(store: LedgerStore, app: str, env: str, position: int) -> Then:
    """The environment as it was when the log ended at ``position``."""
    now = current(store, app, env)
    version = store.version_at(now.id, position, now.version)
    if version is None:
        first = _position(store, now.id, 1)
        raise NotFound(
            f"{app}/{env} had no events at position {position}; its first is at {first}",
            field="position",
        )
    return at_version(store, now, version)


def state_then(past: Then, *, reveal_secrets: bool = False) -> StateView:
    """The state view of the past; secret values are fingerprinted unless revealed.

    A key secret now is secret in the past too: declarations are never taken back."""
    then = past.then
    if not reveal_secrets:
        secret = {*then.secret_keys, *past.now.secret_keys}
        then = msgspec.structs.replace(then, config=redact(then.config, secret))
    return state_view(then, past.position)


def release_diff(store: LedgerStore, app: str, env: str, a: int, b: int) -> DiffView:
    """What changes from release ``a`` to release ``b`` of one environment (either order)."""
    now = current(store, app, env)
    old, new = (_release(now, v, field) for v, field in ((a, "a"), (b, "b")))
    old_then = at_version(store, now, old.event_version)
    new_then = at_version(store, now, new.event_version)
    direction: Direction = "forward" if b >= a else "backward"
    return _diff(old_then, new_then, old, new, direction)


def environment_diff(store: LedgerStore, app: str, env: str, other: str) -> DiffView:
    """What differs from ``env`` now to ``other`` now (e.g. prod → staging: what a promotion
    would bring)."""
    if other == env:
        raise Invalid("compare with another environment", field="against_env")
    old, new = current(store, app, env), current(store, app, other)
    old_then = Then(then=old, now=old, position=_position(store, old.id, old.version))
    new_then = Then(then=new, now=new, position=_position(store, new.id, new.version))
    return _diff(old_then, new_then, old.current(), new.current(), "across")


def _release(now: Environment, version: int, field: str) -> Release:
    release = now.release(version)
    if release is None:
        raise NotFound(f"release v{version} of {now.app}/{now.env} does not exist", field=field)
    return release


def _diff(
    old: Then,
    new: Then,
    old_release: Release | None,
    new_release: Release | None,
    direction: Direction,
) -> DiffView:
    # Secret now on either side means secret on both: a value never shows in a diff.
    secret = {*old.now.secret_keys, *new.now.secret_keys}
    found = difference(old.then, new.then, old_release, new_release, secret)
    return DiffView(
        app=old.now.app,
        old=_side(old, old_release),
        new=_side(new, new_release),
        direction=direction,
        build=found.build,
        config=found.config,
        flags=found.flags,
        migrations=found.migrations,
    )


def _side(past: Then, release: Release | None) -> DiffSide:
    """A side of a diff; its release as it stands now (status, rollout), not as it was."""
    shown = past.now.release(release.version) if release else None
    return DiffSide(
        env=past.now.env,
        release=release_view(shown) if shown else None,
        schema_version=past.then.schema_version,
        position=past.position,
    )


def _position(store: LedgerStore, stream_id: UUID, version: int) -> int:
    return store.position_of(stream_id, version) or 0
