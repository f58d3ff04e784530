"""A release may roll out in percent steps, then complete, or be aborted or fail."""

from __future__ import annotations

import pytest

from ledger.domain.decisions import DEFAULT_CANARY_STEPS
from ledger.domain.errors import Conflict, Invalid, NotFound


@pytest.fixture
def canary(given):
    """v1 runs b1; v2 rolls b2 out as a canary with the default steps."""
    return given.releases("b1").build("b2").deploy("b2", strategy="canary")


def test_a_canary_starts_at_its_first_default_step(canary, then) -> None:
    release = then.release(2)
    assert DEFAULT_CANARY_STEPS == (1, 10, 50, 100)
    assert (release.status, release.strategy) == ("rolling_out", "canary")
    assert (release.steps, release.rollout_percent) == (DEFAULT_CANARY_STEPS, 1)


def test_a_canary_starts_at_its_own_first_step(given, when, then) -> None:
    given.build("b1")
    when.deploy("b1", strategy="canary", steps=[5, 25, 100])
    assert (then.release(1).steps, then.release(1).rollout_percent) == ((5, 25, 100), 5)


def test_canary_steps_must_increase(given, when) -> None:
    given.build("b1")
    with pytest.raises(Invalid):
        when.deploy("b1", strategy="canary", steps=[10, 10, 100])


def test_steps_belong_to_canaries_only(given, when) -> None:
    given.build("b1")
    with pytest.raises(Invalid):
        when.deploy("b1", steps=[10, 100])


def test_while_rolling_out_the_previous_release_still_runs_for_the_rest(canary, then) -> None:
    assert then.statuses() == {1: "succeeded", 2: "rolling_out"}
    assert then.current().version == 2


def test_progress_moves_the_percent(canary, when, then) -> None:
    when.rollout(2, percent=10)
    when.rollout(2, percent=50)
    assert (then.release(2).status, then.release(2).rollout_percent) == ("rolling_out", 50)


def test_completed_succeeds_at_100_and_supersedes_older_releases(canary, when, then) -> None:
    when.rollout(2, status="completed")
    assert (then.release(2).status, then.release(2).rollout_percent) == ("succeeded", 100)
    assert then.statuses() == {1: "superseded", 2: "succeeded"}


@pytest.mark.parametrize("outcome", ["aborted", "failed"])
def test_an_ended_canary_leaves_the_previous_release_current(canary, when, then, outcome) -> None:
    when.rollout(2, status=outcome)
    assert then.statuses() == {1: "succeeded", 2: outcome}
    assert then.release(2).rollout_percent == 0
    assert then.current().build_id == "b1"


def test_a_release_that_is_not_rolling_out_cannot_progress(canary, when) -> None:
    when.rollout(2, status="completed")
    with pytest.raises(Conflict):
        when.rollout(2, percent=50)


def test_progress_of_a_missing_release_is_not_found(canary, when) -> None:
    with pytest.raises(NotFound):
        when.rollout(3, percent=50)


@pytest.mark.parametrize(("percent", "status"), [(None, None), (50, "completed")])
def test_progress_gives_a_percent_or_a_status(canary, when, percent, status) -> None:
    with pytest.raises(Invalid):
        when.rollout(2, percent=percent, status=status)


def test_a_deploy_is_refused_while_a_release_rolls_out(canary, when, then) -> None:
    count = then.event_count()
    with pytest.raises(Conflict, match="rolling out"):
        when.deploy("b1")
    assert then.event_count() == count


def test_a_config_change_is_refused_while_a_release_rolls_out(canary, when, then) -> None:
    with pytest.raises(Conflict, match="rolling out"):
        when.config({"A": "1"})
    assert then.environment().config == {}


def test_a_promotion_into_an_environment_rolling_out_is_refused(canary, when) -> None:
    canary.deploy("b1", env="staging")
    with pytest.raises(Conflict, match="rolling out"):
        when.promote(from_env="staging", to_env="prod")


def test_after_an_abort_deploys_are_accepted_again(canary, when, then) -> None:
    canary.rollout(2, status="aborted")
    when.deploy("b2")
    assert then.statuses() == {1: "superseded", 2: "aborted", 3: "succeeded"}
