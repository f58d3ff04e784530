"""The past of environments, replayed from the event store: states as they were, and diffs.

Synchronous (eventsourcing is): the HTTP layer runs these in a thread. Every past state is a
moment (``ledger.domain.moments``) replayed by the domain's own rules from the stream's newest
moment snapshot up to a version, so reading the past costs the same in a long stream as in a
short one. A diff of two releases also loads the whole state now, to show each release as it
stands now (status, rollout).
"""

from __future__ import annotations

import msgspec

from ledger.domain.diff import difference
from ledger.domain.errors import Invalid, NotFound
from ledger.domain.model import Environment, Release
from ledger.domain.moments import Moment
from ledger.domain.names import environment_id
from ledger.domain.secrets import Fingerprints
from ledger.eventstore.application import LedgerStore
from ledger.eventstore.reading import Reading
from ledger.wire.shapes import DiffSide, DiffView, Direction, StateView, release_view, state_view


class Then(msgspec.Struct, kw_only=True):
    """An environment as it was (``then``, plaintext, open releases only), and as it is now."""

    then: Environment
    now: Environment
    position: int  # the global position of the last event of ``then``


def current(read: Reading, app: str, env: str) -> Moment:
    """The moment of the environment now; NotFound when it has no events."""
    moment = read.moment(environment_id(app, env))
    if moment is None:
        raise NotFound(f"{app}/{env} has no events")
    return moment


def at_release(store: LedgerStore, app: str, env: str, version: int) -> Then:
    """The environment right after release ``version`` was created."""
    with store.reading() as read:
        now = current(read, app, env)
        created = now.created_at_version(version)
        if created is None:
            raise NotFound(f"release v{version} of {app}/{env} does not exist", field="release")
        return _at_version(read, now.state, created)


def at_position(store: LedgerStore, app: str, env: str, position: int) -> Then:
    """The environment as it was when the log ended at ``position``."""
    with store.reading() as read:
        now = current(read, app, env).state
        last = read.last_at(now.id, position)
        if last is None:
            first = read.position_of(now.id, 1)
            raise NotFound(
                f"{app}/{env} had no events at position {position}; its first is at {first}",
                field="position",
            )
        version, found = last
        return _at_version(read, now, version, found)


def _at_version(read: Reading, now: Environment, version: int, position: int | None = None) -> Then:
    """The environment replayed up to (and including) its event at ``version`` (whose
    global position is looked up unless given)."""
    moment = read.moment(now.id, version)
    assert moment is not None
    then = moment.state
    if position is None:
        position = read.position_of(now.id, then.version) or 0
    return Then(then=then, now=now, position=position)


def state_then(
    past: Then, fingerprints: Fingerprints, *, reveal_secrets: bool = False
) -> StateView:
    """The state view of the past; secret values are shown as their ``fingerprints`` unless
    revealed.

    A key secret now is secret in the past too: declarations are never taken back."""
    then = past.then
    if not reveal_secrets:
        secret = {*then.secret_keys, *past.now.secret_keys}
        then = msgspec.structs.replace(then, config=fingerprints.redact(then.config, secret))
    return state_view(then, past.position)


def release_diff(store: LedgerStore, app: str, env: str, a: int, b: int) -> DiffView:
    """What changes from release ``a`` to release ``b`` of one environment (either order)."""
    now = _full(store, app, env)
    old, new = (_release(now, v, field) for v, field in ((a, "a"), (b, "b")))
    with store.reading() as read:
        old_then = _at_version(read, now, old.event_version)
        new_then = _at_version(read, now, new.event_version)
    direction: Direction = "forward" if b >= a else "backward"
    return _diff(old_then, new_then, old, new, direction)


def environment_diff(store: LedgerStore, app: str, env: str, other: str) -> DiffView:
    """What differs from ``env`` now to ``other`` now (e.g. prod → staging: what a promotion
    would bring)."""
    if other == env:
        raise Invalid("compare with another environment", field="against_env")
    with store.reading() as read:
        old, new = current(read, app, env).state, current(read, app, other).state
        old_then = Then(then=old, now=old, position=read.position_of(old.id, old.version) or 0)
        new_then = Then(then=new, now=new, position=read.position_of(new.id, new.version) or 0)
    return _diff(old_then, new_then, old.current(), new.current(), "across")


def _full(store: LedgerStore, app: str, env: str) -> Environment:
    """The full state now, every release as it stands now; NotFound when it has no events."""
    state = store.load(environment_id(app, env))
    if not isinstance(state, Environment):
        raise NotFound(f"{app}/{env} has no events")
    return state


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
