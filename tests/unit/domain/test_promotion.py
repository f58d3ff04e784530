"""Promotion deploys exactly the build that runs in another environment."""

from __future__ import annotations

import pytest

from ledger.domain.errors import Invalid, NotFound


def test_promotion_deploys_the_build_running_in_the_source(given, when, then) -> None:
    given.build("b1").build("b2").deploy("b1", env="staging").deploy("b2", env="staging")
    given.releases("b1")
    when.promote(from_env="staging", to_env="prod")
    promoted, source = then.release(2), then.current(env="staging")
    pinned = ("build_id", "commit", "artifact_digest")
    assert [getattr(promoted, f) for f in pinned] == [getattr(source, f) for f in pinned]
    assert (promoted.cause, promoted.promoted_from, promoted.build_id) == (
        "promote",
        "staging",
        "b2",
    )


def test_promotion_keeps_the_target_environment_config(given, when, then) -> None:
    given.config({"DB": "staging-db"}, env="staging").releases("b1")
    given.deploy("b1", env="staging").config({"DB": "prod-db"}).config({"X": "1"})
    when.promote(from_env="staging", to_env="prod")
    assert (then.current().config_version, then.environment().config["DB"]) == (2, "prod-db")


def test_promotion_follows_a_rollback_in_the_source(given, when, then) -> None:
    given.build("b1").build("b2").deploy("b1", env="staging").deploy("b2", env="staging")
    given.rollback(env="staging")
    when.promote(from_env="staging", to_env="prod")
    assert then.release(1).build_id == "b1"


def test_nothing_running_in_the_source_is_not_found(given, when) -> None:
    given.config({"A": "1"}, env="staging")
    with pytest.raises(NotFound) as refused:
        when.promote(from_env="staging", to_env="prod")
    assert refused.value.field == "from_env"


def test_promoting_an_environment_to_itself_is_invalid(given, when) -> None:
    given.releases("b1")
    with pytest.raises(Invalid):
        when.promote(from_env="prod", to_env="prod")
