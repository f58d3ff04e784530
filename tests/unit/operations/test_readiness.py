"""/readyz's lag bound: only followers this process owns count, and 0 means no bound."""

from __future__ import annotations

from dataclasses import dataclass

from projections.follower import lagging


@dataclass
class Follower:
    name: str
    owner: bool
    position: int


def test_an_owned_follower_further_behind_than_the_bound_is_lagging() -> None:
    followers = [Follower("projections", True, 100), Follower("nats-publisher", True, 1)]
    assert lagging(followers, head=150, bound=100) == ["nats-publisher"]


def test_a_follower_exactly_at_the_bound_is_not_lagging() -> None:
    assert lagging([Follower("projections", True, 50)], head=150, bound=100) == []


def test_a_standby_never_lags_its_position_is_not_its_own() -> None:
    assert lagging([Follower("projections", False, 0)], head=10**6, bound=100) == []


def test_a_bound_of_zero_turns_the_check_off() -> None:
    assert lagging([Follower("projections", True, 0)], head=10**6, bound=0) == []
