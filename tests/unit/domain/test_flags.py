"""Flags live at the application layer: a flip is recorded and visible but makes no release."""

from __future__ import annotations

from ledger.domain.events import FlagChanged


def test_a_flag_flip_is_recorded_without_a_release(given, when, then) -> None:
    given.releases("b1").config({"A": "1"})
    event = when.flag("new-checkout", True, percent=10)
    assert isinstance(event, FlagChanged)
    environment = then.environment()
    assert environment.flags["new-checkout"].enabled is True
    assert environment.flags["new-checkout"].rollout_percent == 10
    assert [r.version for r in environment.releases] == [1, 2]
    assert environment.config_version == 1


def test_the_last_flip_wins(given, when, then) -> None:
    given.flag("new-checkout", True, percent=10)
    when.flag("new-checkout", False)
    flag = then.environment().flags["new-checkout"]
    assert (flag.enabled, flag.rollout_percent) == (False, None)


def test_a_flag_may_be_flipped_while_a_release_rolls_out(given, when, then) -> None:
    given.releases("b1").build("b2").deploy("b2", strategy="canary")
    when.flag("new-checkout", True)
    assert then.environment().flags["new-checkout"].enabled is True


def test_an_environment_can_begin_with_a_flag(given, when, then) -> None:
    when.flag("dark-mode", True)
    assert then.environment().releases == []
    assert then.current() is None
