"""A diff says what changes from one state to another: build, config, flags, migrations; never a
secret's value."""

from __future__ import annotations

from ledger.domain.diff import Difference, difference
from ledger.domain.model import Flag

from .conftest import ENV, Ledger, commit_of


def diff_releases(ledger: Ledger, a: int, b: int, env: str = ENV) -> Difference:
    """Release a → release b of one environment, each as it was when it was made."""
    now = ledger.environment(env)
    assert now is not None
    old, new = now.release(a), now.release(b)
    assert old is not None and new is not None
    return difference(
        ledger.past(env, old.event_version),
        ledger.past(env, new.event_version),
        old,
        new,
        now.secret_keys,
    )


def test_a_deploy_changes_build_and_commit_only(given, ledger) -> None:
    given.config({"A": "1"}).releases("b1", "b2")
    found = diff_releases(ledger, 2, 3)
    assert found.build is not None
    assert (found.build.old_build_id, found.build.new_build_id) == ("b1", "b2")
    assert (found.build.old_commit, found.build.new_commit) == (commit_of("b1"), commit_of("b2"))
    assert (found.config, found.flags, found.migrations) == ([], [], [])


def test_config_keys_added_removed_and_changed_show_old_and_new_values(given, ledger) -> None:
    given.config({"KEEP": "1", "CHANGE": "old", "DROP": "x"}).releases("b1")
    given.config({"CHANGE": "new", "ADD": "y"}, unset=["DROP"])
    found = diff_releases(ledger, 2, 3)
    assert found.build is None
    assert [(c.key, c.change, c.old, c.new, c.secret) for c in found.config] == [
        ("ADD", "added", None, "y", False),
        ("CHANGE", "changed", "old", "new", False),
        ("DROP", "removed", "x", None, False),
    ]


def test_a_secret_change_is_visible_but_never_its_values(given, ledger) -> None:
    given.config({"DB_PASSWORD": "hunter2", "LICENSE": "l-1"}, secret=["LICENSE"])
    given.config({"DB_PASSWORD": "hunter3", "LICENSE": "l-2"})
    found = diff_releases(ledger, 1, 2)
    assert [(c.key, c.change, c.secret, c.old, c.new) for c in found.config] == [
        ("DB_PASSWORD", "changed", True, None, None),
        ("LICENSE", "changed", True, None, None),
    ]
    assert "hunter" not in repr(found) and "l-1" not in repr(found)


def test_a_key_declared_secret_later_hides_its_earlier_values(given, ledger) -> None:
    given.config({"API_URL": "https://a"}).config({"API_URL": "https://b"})
    given.config({"OTHER": "1"}, secret=["API_URL"])
    found = diff_releases(ledger, 1, 2)
    assert [(c.key, c.secret, c.old, c.new) for c in found.config] == [
        ("API_URL", True, None, None)
    ]


def test_flags_show_the_net_change_between_the_releases(given, ledger) -> None:
    given.flag("beta", True).flag("old", True).config({"A": "1"})
    given.releases("b1").flag("beta", True, percent=25).flag("beta", False).flag("new", True)
    given.flag("old", False)
    given.config({"A": "2"})
    found = diff_releases(ledger, 1, 3)
    on, off = Flag(enabled=True, rollout_percent=None), Flag(enabled=False, rollout_percent=None)
    assert [(f.flag, f.change, f.old, f.new) for f in found.flags] == [
        ("beta", "changed", on, off),
        ("new", "added", None, on),
        ("old", "changed", on, off),
    ]


def test_migrations_between_the_releases_are_listed_added_forward(given, ledger) -> None:
    given.releases("b1").migration("m1", reversible=True, schema_version="2")
    given.migration("m2", reversible=False, schema_version="3").releases("b2")
    given.migration("m3", reversible=True, schema_version="4")
    found = diff_releases(ledger, 1, 2)
    assert [(m.migration_id, m.change, m.reversible) for m in found.migrations] == [
        ("m1", "added", True),
        ("m2", "added", False),
    ]


def test_backwards_across_a_rollback_is_the_mirror_image(given, ledger) -> None:
    given.config({"A": "1"}).releases("b1").migration("m1", reversible=True)
    given.config({"A": "2", "B": "x"}).releases("b2").rollback(to=2)
    forward, backward = diff_releases(ledger, 2, 4), diff_releases(ledger, 4, 2)
    assert [(c.key, c.change) for c in forward.config] == [("A", "changed"), ("B", "added")]
    assert [(c.key, c.change, c.old, c.new) for c in backward.config] == [
        ("A", "changed", "2", "1"),
        ("B", "removed", "x", None),
    ]
    assert [(m.migration_id, m.change) for m in forward.migrations] == [("m1", "added")]
    assert [(m.migration_id, m.change) for m in backward.migrations] == [("m1", "removed")]
    assert backward.build is not None and backward.build.new_build_id == "b1"
    # the rollback restores v2's build and config; the migration since stays applied
    same = diff_releases(ledger, 2, 5)
    assert (same.build, same.config, same.flags) == (None, [], [])
    assert same.migrations == forward.migrations


def test_two_environments_compare_by_what_each_has_now(given, ledger) -> None:
    given.config({"A": "1"}, env="staging").config({"A": "1", "B": "2"}, env="prod")
    given.build("b1").deploy("b1", env="staging").migration("m1", reversible=True, env="prod")
    staging, prod = ledger.environment("staging"), ledger.environment("prod")
    assert staging is not None and prod is not None
    found = difference(prod, staging, prod.current(), staging.current())
    assert found.build is not None and found.build.new_build_id == "b1"
    assert found.build.old_build_id is None
    assert [(c.key, c.change) for c in found.config] == [("B", "removed")]
    assert [(m.migration_id, m.change) for m in found.migrations] == [("m1", "removed")]
