"""Releases are numbered per (app, env) from v1 without gaps, whatever made them."""

from __future__ import annotations

import pytest

from ledger.domain.errors import DomainError


def test_the_first_release_of_an_environment_is_v1(given, when, then) -> None:
    given.build("b1")
    when.deploy("b1")
    assert [r.version for r in then.environment().releases] == [1]


def test_every_kind_of_release_takes_the_next_number(given, when, then) -> None:
    given.config({"A": "1"}).build("b1").build("b2")
    given.deploy("b1").deploy("b2").deploy("b2", env="staging")
    when.rollback()
    when.promote(from_env="staging", to_env="prod")
    causes = [(r.version, r.cause) for r in then.environment().releases]
    assert causes == [(1, "config"), (2, "deploy"), (3, "deploy"), (4, "rollback"), (5, "promote")]


def test_a_refused_command_does_not_use_up_a_number(given, when, then) -> None:
    given.releases("b1").build("bad", status="failed")
    with pytest.raises(DomainError):
        when.deploy("bad")
    given.build("b2")
    when.deploy("b2")
    assert [r.version for r in then.environment().releases] == [1, 2]


def test_an_aborted_release_keeps_its_number(given, when, then) -> None:
    given.releases("b1").build("b2").deploy("b2", strategy="canary").rollout(2, status="aborted")
    when.deploy("b2")
    assert [r.version for r in then.environment().releases] == [1, 2, 3]


def test_each_environment_numbers_its_own_releases(given, when, then) -> None:
    given.releases("b1", "b2")
    when.deploy("b2", env="staging")
    assert then.release(1, env="staging").build_id == "b2"
    assert [r.version for r in then.environment().releases] == [1, 2]
