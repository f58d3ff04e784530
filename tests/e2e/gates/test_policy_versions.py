"""Policies are recorded versions: read as they were at a time, an app's level over every
app's (``*``), and each refusal names the versions that refused it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from ..conftest import Api
from .places import Outcome, Place

pytestmark = pytest.mark.e2e

MICROSECOND = timedelta(microseconds=1)


def policy_at(api: Api, place: Place, at: datetime | None = None, app: str | None = None) -> Any:
    path = f"/v1/apps/{app or place.app}/envs/{place.env}/policy"
    return api.read(path, at=at.isoformat() if at else None)


def changed_at(view: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(view["changed_at"])


@pytest.fixture
def own_env(api: Api) -> Place:
    """A place in an environment no other test sets a policy of every app (``*``) for."""
    place = Place.new(api)
    place.env = f"env-{place.app}"
    return place


def test_a_policy_read_at_a_time_is_the_version_in_force_then(place: Place, api: Api) -> None:
    place.policy(required_evidence=["tests"])
    first = changed_at(policy_at(api, place))
    place.policy(required_evidence=["tests", "scan"], approvals={"required": 1})
    second = changed_at(policy_at(api, place))

    before = policy_at(api, place, first - MICROSECOND)
    assert (before["recorded"], before["level_version"]) == (None, 0), before
    assert before["policy"]["version"] == "defaults"
    for moment in (first, second - MICROSECOND):
        between = policy_at(api, place, moment)
        assert between["level_version"] == 1, between
        assert between["recorded"] == {"required_evidence": ["tests"]}, between
        assert between["policy"]["version"] == f"{place.app}/prod v1"
    for view in (policy_at(api, place, second), policy_at(api, place)):
        assert view["level_version"] == 2, view
        assert view["policy"]["required_evidence"] == ["tests", "scan"], view
        assert view["policy"]["approvals"]["required"] == 1
        assert view["policy"]["version"] == f"{place.app}/prod v2"


def test_every_apps_policy_is_inherited_and_an_apps_own_level_overrides_it(
    own_env: Place, api: Api
) -> None:
    shop, other = own_env, Place.new(api, env=own_env.env)
    shop.policy(app="*", required_evidence=["tests"], approvals={"required": 1})
    shop.policy(approvals=None)

    mine, theirs = policy_at(api, shop), policy_at(api, other)

    env = shop.env
    assert mine["policy"]["required_evidence"] == theirs["policy"]["required_evidence"] == ["tests"]
    assert (mine["policy"]["approvals"], theirs["policy"]["approvals"]["required"]) == (None, 1)
    assert mine["policy"]["version"] == f"{shop.app}/{env} v1 + */{env} v1"
    assert theirs["policy"]["version"] == f"*/{env} v1" and theirs["recorded"] is None
    every = policy_at(api, shop, app="*")
    assert every["recorded"] == {
        "required_evidence": ["tests"],
        "approvals": {"required": 1, "allow_self": False},
    }
    Outcome.of(shop.deploy(shop.build(tests="passed"))).released()
    Outcome.of(other.deploy(other.build(tests="passed"))).waiting()


def test_an_apps_empty_list_says_none_here_over_every_apps(own_env: Place, api: Api) -> None:
    own_env.policy(app="*", required_evidence=["tests"])
    own_env.policy(required_evidence=[])

    Outcome.of(own_env.deploy(own_env.build())).released()

    assert policy_at(api, own_env)["policy"]["required_evidence"] == []


def test_a_refusal_names_the_policy_versions_that_refused_it(own_env: Place) -> None:
    env = own_env.env
    own_env.policy(app="*", required_evidence=["tests"])
    own_env.policy(approvals={"required": 1})
    own_env.policy(approvals={"required": 2})

    problem = Outcome.of(own_env.deploy(own_env.build())).refused(409, "evidence")

    version = f"{own_env.app}/{env} v2 + */{env} v1"
    assert problem["policy"] == version, problem
    denied = own_env.denied()
    assert (denied["data"]["gate"], denied["data"]["policy"]) == ("evidence", version), denied
    assert "lacks required evidence" in denied["summary"], denied
