"""Config is immutable per release: a change is a new config version and a new release."""

from __future__ import annotations

import pytest

from ledger.domain.errors import Conflict, Invalid


def test_a_config_change_creates_a_release_with_a_new_config_version(given, when, then) -> None:
    given.releases("b1")
    when.config({"A": "1"})
    release = then.release(2)
    assert (release.cause, release.status, release.config_version) == ("config", "succeeded", 1)
    assert then.environment().config == {"A": "1"}


def test_the_new_release_keeps_the_build_that_runs(given, when, then) -> None:
    given.releases("b1", "b2")
    when.config({"A": "1"})
    release, build = then.release(3), then.build("b2")
    assert (release.build_id, release.commit) == ("b2", build.commit)
    assert release.artifact_digest == build.artifact.digest
    assert then.statuses() == {1: "superseded", 2: "superseded", 3: "succeeded"}


def test_config_before_any_deploy_is_a_release_without_a_build(given, when, then) -> None:
    when.config({"A": "1"})
    assert then.release(1).build_id is None


def test_config_versions_count_up_and_the_next_deploy_pins_the_latest(given, when, then) -> None:
    given.config({"A": "1"}).config({"B": "2"}).config({}, unset=["A"]).build("b1")
    when.deploy("b1")
    assert [r.config_version for r in then.environment().releases] == [1, 2, 3, 3]
    assert then.environment().config == {"B": "2"}


def test_unsetting_a_key_removes_it(given, when, then) -> None:
    given.config({"A": "1", "B": "2"})
    when.config({"C": "3"}, unset=["A"])
    assert then.environment().config == {"B": "2", "C": "3"}


def test_a_change_that_changes_nothing_is_refused(given, when, then) -> None:
    given.config({"A": "1"})
    with pytest.raises(Conflict):
        when.config({"A": "1"}, unset=["NEVER_SET"])
    assert len(then.environment().releases) == 1


def test_an_empty_change_is_invalid(given, when) -> None:
    with pytest.raises(Invalid):
        when.config({})


def test_a_key_both_set_and_unset_is_invalid(given, when) -> None:
    with pytest.raises(Invalid) as refused:
        when.config({"A": "1"}, unset=["A"])
    assert refused.value.field == "unset"


def test_declaring_a_key_secret_that_is_not_set_is_invalid(given, when) -> None:
    with pytest.raises(Invalid) as refused:
        when.config({"A": "1"}, secret=["B"])
    assert refused.value.field == "secret"
