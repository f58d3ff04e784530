"""A rollback to a release older than an irreversible migration is refused unless forced."""

from __future__ import annotations

import pytest

from ledger.domain.errors import Conflict, RollbackBlocked


@pytest.fixture
def migrated(given):
    """v1 runs b1; then m1 (irreversible) and m2 (reversible) ran; v2 runs b2."""
    given.releases("b1").migration("m1", reversible=False, schema_version="2")
    return given.migration("m2", reversible=True, schema_version="3").releases("b2")


def test_an_irreversible_migration_after_k_blocks(migrated, when, then) -> None:
    count = then.event_count()
    with pytest.raises(RollbackBlocked, match="m1") as blocked:
        when.rollback(to=1)
    assert blocked.value.migrations == ["m1"]
    assert isinstance(blocked.value, Conflict)
    assert then.event_count() == count


def test_the_default_target_is_blocked_too(migrated, when) -> None:
    with pytest.raises(RollbackBlocked):
        when.rollback()


def test_every_irreversible_migration_crossed_is_named(migrated, when) -> None:
    migrated.migration("m3", reversible=False, schema_version="4")
    with pytest.raises(RollbackBlocked) as blocked:
        when.rollback(to=1)
    assert blocked.value.migrations == ["m1", "m3"]


def test_reversible_migrations_do_not_block(given, when, then) -> None:
    given.releases("b1").migration("m1", reversible=True).releases("b2")
    when.rollback(to=1)
    assert then.current().build_id == "b1"


def test_irreversible_migrations_before_k_do_not_block(given, when, then) -> None:
    given.migration("m0", reversible=False).releases("b1", "b2")
    when.rollback(to=1)
    assert then.current().rollback_of == 1


def test_force_overrides_and_is_recorded(migrated, when, then) -> None:
    event = when.rollback(to=1, force=True, reason="b2 corrupts orders; m1 is compatible")
    assert (event.forced, event.crossed_migrations) == (True, ("m1",))
    assert event.reason == "b2 corrupts orders; m1 is compatible"
    assert then.current().rollback_of == 1
    assert then.environment().schema_version == "3"


def test_force_without_an_irreversible_migration_is_not_recorded_as_forced(given, when) -> None:
    given.releases("b1", "b2")
    event = when.rollback(force=True)
    assert (event.forced, event.crossed_migrations) == (False, ())
