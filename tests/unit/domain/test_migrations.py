"""Migrations are recorded per environment: id, schema version, reversible or not."""

from __future__ import annotations

import pytest

from ledger.domain.errors import Conflict
from ledger.domain.events import MigrationApplied


def test_a_migration_is_recorded_and_sets_the_schema_version(given, when, then) -> None:
    given.releases("b1")
    event = when.migration("0042_orders", reversible=False, schema_version="42")
    assert isinstance(event, MigrationApplied)
    environment = then.environment()
    assert environment.schema_version == "42"
    assert [(m.migration_id, m.reversible) for m in environment.migrations] == [
        ("0042_orders", False)
    ]


def test_the_schema_version_is_the_last_migrations(given, when, then) -> None:
    given.migration("m1", reversible=True, schema_version="1")
    when.migration("m2", reversible=True, schema_version="2")
    assert then.environment().schema_version == "2"


def test_a_migration_makes_no_release(given, when, then) -> None:
    given.releases("b1")
    when.migration("m1", reversible=True)
    assert [r.version for r in then.environment().releases] == [1]


def test_the_same_migration_twice_is_refused(given, when, then) -> None:
    given.migration("m1", reversible=True, schema_version="1")
    count = then.event_count()
    with pytest.raises(Conflict) as refused:
        when.migration("m1", reversible=True, schema_version="2")
    assert refused.value.field == "migration_id"
    assert then.event_count() == count
    assert then.environment().schema_version == "1"


def test_each_environment_has_its_own_migrations(given, when, then) -> None:
    given.migration("m1", reversible=True, env="staging")
    when.migration("m1", reversible=True)
    assert [m.migration_id for m in then.environment().migrations] == ["m1"]


def test_a_numeric_schema_version_is_recorded_as_its_digits(given, when, then) -> None:
    event = when.migration(
        "20240507140300_add_orders", reversible=True, schema_version=20240507140300
    )
    assert isinstance(event, MigrationApplied)
    assert event.schema_version == "20240507140300"
    assert then.environment().schema_version == "20240507140300"
