"""What differs between two states of environments: build, config, flags and migrations. Pure.

The two states may be two moments of one environment (two releases, in either order) or two
environments now. Secret values never leave this module: a secret key is reported as added,
removed or changed, without its values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from msgspec import Struct

from ledger.domain.model import Environment, Flag, Migration, Release
from ledger.domain.secrets import is_secret

Change = Literal["added", "removed", "changed"]


class BuildChange(Struct, kw_only=True):
    """The build that runs on each side, when they differ."""

    old_build_id: str | None
    new_build_id: str | None
    old_commit: str | None
    new_commit: str | None
    old_artifact_digest: str | None
    new_artifact_digest: str | None


class ConfigChange(Struct, kw_only=True):
    """A config key that differs; ``old``/``new`` are null for secrets (and absent sides)."""

    key: str
    change: Change
    secret: bool
    old: str | None
    new: str | None


class FlagChange(Struct, kw_only=True):
    flag: str
    change: Change
    old: Flag | None
    new: Flag | None


class MigrationChange(Struct, kw_only=True):
    """A migration applied on one side only: ``added`` on the new side, ``removed`` the old."""

    migration_id: str
    schema_version: str
    reversible: bool
    change: Literal["added", "removed"]


class Difference(Struct, kw_only=True):
    build: BuildChange | None
    config: list[ConfigChange]
    flags: list[FlagChange]
    migrations: list[MigrationChange]


def difference(
    old: Environment,
    new: Environment,
    old_release: Release | None,
    new_release: Release | None,
    secret_keys: Iterable[str] = (),
) -> Difference:
    """Old → new. ``secret_keys`` adds keys held secret elsewhere (e.g. declared since)."""
    secret = {*old.secret_keys, *new.secret_keys, *secret_keys}
    return Difference(
        build=build_change(old_release, new_release),
        config=config_changes(old.config, new.config, secret),
        flags=flag_changes(old.flags, new.flags),
        migrations=migration_changes(old.migrations, new.migrations),
    )


def build_change(old: Release | None, new: Release | None) -> BuildChange | None:
    before = (old.build_id, old.commit, old.artifact_digest) if old else (None, None, None)
    after = (new.build_id, new.commit, new.artifact_digest) if new else (None, None, None)
    if before == after:
        return None
    return BuildChange(
        old_build_id=before[0],
        new_build_id=after[0],
        old_commit=before[1],
        new_commit=after[1],
        old_artifact_digest=before[2],
        new_artifact_digest=after[2],
    )


def config_changes(
    old: dict[str, str], new: dict[str, str], secret: set[str]
) -> list[ConfigChange]:
    """Keys added, removed or changed, by name; values only of keys that are not secret."""
    changes = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        change: Change = "added" if before is None else "removed" if after is None else "changed"
        hidden = is_secret(key, secret)
        changes.append(
            ConfigChange(
                key=key,
                change=change,
                secret=hidden,
                old=None if hidden else before,
                new=None if hidden else after,
            )
        )
    return changes


def flag_changes(old: dict[str, Flag], new: dict[str, Flag]) -> list[FlagChange]:
    changes = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        change: Change = "added" if before is None else "removed" if after is None else "changed"
        changes.append(FlagChange(flag=name, change=change, old=before, new=after))
    return changes


def migration_changes(old: list[Migration], new: list[Migration]) -> list[MigrationChange]:
    """Migrations on the new side only (added), then on the old side only (removed)."""
    old_ids = {m.migration_id for m in old}
    new_ids = {m.migration_id for m in new}
    added = [_migration(m, "added") for m in new if m.migration_id not in old_ids]
    return added + [_migration(m, "removed") for m in old if m.migration_id not in new_ids]


def _migration(migration: Migration, change: Literal["added", "removed"]) -> MigrationChange:
    return MigrationChange(
        migration_id=migration.migration_id,
        schema_version=migration.schema_version,
        reversible=migration.reversible,
        change=change,
    )
