"""Only builds recorded as succeeded deploy; a deploy is a release pinning the build and config."""

from __future__ import annotations

import pytest

from ledger.domain.errors import Conflict, NotFound


def test_a_deploy_pins_the_build_and_the_current_config(given, when, then) -> None:
    given.config({"A": "1"}).config({"A": "2"}).build("b1")
    event = when.deploy("b1")
    release, build = then.release(3), then.build("b1")
    assert (release.build_id, release.commit) == ("b1", build.commit)
    assert release.artifact_digest == build.artifact.digest
    assert release.config_version == 2
    assert (release.status, release.rollout_percent, release.cause) == ("succeeded", 100, "deploy")
    assert release.actor == event.actor == "ci-bot"


def test_a_deploy_supersedes_the_release_before_it(given, when, then) -> None:
    given.releases("b1").build("b2")
    when.deploy("b2")
    assert then.statuses() == {1: "superseded", 2: "succeeded"}
    assert then.current().version == 2


def test_a_build_that_was_never_recorded_is_not_found(given, when, then) -> None:
    with pytest.raises(NotFound) as refused:
        when.deploy("ghost")
    assert refused.value.field == "build_id"
    assert then.ledger.environment() is None


def test_a_failed_build_is_refused(given, when, then) -> None:
    given.releases("b1").build("b2", status="failed")
    count = then.event_count()
    with pytest.raises(Conflict, match="only succeeded builds deploy"):
        when.deploy("b2")
    assert then.event_count() == count
    assert then.current().build_id == "b1"
