"""Which release a rollback goes to: the one named, else the last good one before the current."""

from __future__ import annotations

import pytest

from ledger.domain.errors import Conflict, NotFound


def test_by_default_the_last_good_release_before_the_current(given, when, then) -> None:
    given.releases("b1", "b2", "b3")
    when.rollback()
    assert (then.release(4).rollback_of, then.release(4).build_id) == (2, "b2")


def test_the_default_skips_releases_that_never_succeeded(given, when, then) -> None:
    given.releases("b1").build("b2").deploy("b2", strategy="canary").rollout(2, status="failed")
    given.build("b3").deploy("b3")
    when.rollback()
    assert then.release(4).rollback_of == 1


def test_the_default_counts_config_releases(given, when, then) -> None:
    given.releases("b1").config({"A": "1"}).config({"A": "2"})
    when.rollback()
    assert then.release(4).rollback_of == 2
    assert then.environment().config == {"A": "1"}


def test_a_named_target(given, when, then) -> None:
    given.releases("b1", "b2", "b3")
    when.rollback(to=1)
    assert (then.release(4).rollback_of, then.release(4).build_id) == (1, "b1")


def test_a_named_target_may_be_newer_than_the_current(given, when, then) -> None:
    given.releases("b1", "b2").rollback(to=1)
    when.rollback(to=2)
    assert then.release(4).build_id == "b2"


def test_the_current_release_is_refused(given, when) -> None:
    given.releases("b1", "b2")
    with pytest.raises(Conflict, match="already the current") as refused:
        when.rollback(to=2)
    assert refused.value.field == "to_version"


@pytest.mark.parametrize("outcome", ["aborted", "failed"])
def test_a_release_that_never_succeeded_is_refused(given, when, then, outcome) -> None:
    given.releases("b1").build("b2").deploy("b2", strategy="canary").rollout(2, status=outcome)
    count = then.event_count()
    with pytest.raises(Conflict, match="never succeeded"):
        when.rollback(to=2)
    assert then.event_count() == count


def test_a_missing_release_is_not_found(given, when) -> None:
    given.releases("b1", "b2")
    with pytest.raises(NotFound) as refused:
        when.rollback(to=7)
    assert refused.value.field == "to_version"


def test_with_nothing_before_the_current_there_is_no_default(given, when) -> None:
    given.releases("b1")
    with pytest.raises(Conflict, match="no earlier good release"):
        when.rollback()


def test_with_nothing_running_there_is_nothing_to_roll_back(given, when) -> None:
    given.flag("dark-mode", True)
    with pytest.raises(Conflict, match="nothing runs"):
        when.rollback()


def test_a_rollback_during_a_canary_goes_back_to_what_ran_before(given, when, then) -> None:
    given.releases("b1").build("b2").deploy("b2", strategy="canary").rollout(2, percent=10)
    when.rollback()
    assert (then.release(3).rollback_of, then.current().version) == (1, 3)


def test_a_canary_cut_short_by_a_rollback_is_no_rollback_target(given, when, then) -> None:
    given.releases("b1").build("b2").deploy("b2", strategy="canary").rollback()
    with pytest.raises(Conflict, match="never succeeded"):
        when.rollback(to=2)


def test_the_default_skips_a_canary_cut_short_by_a_rollback(given, when, then) -> None:
    given.releases("b1", "b2").build("b3").deploy("b3", strategy="canary")
    given.rollback()  # v4 = v2, while v3 was still at 1%
    when.rollback()
    assert (then.release(5).rollback_of, then.release(5).build_id) == (2, "b2")
