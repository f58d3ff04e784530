"""GET …/envs/{env}/dora and /v1/dora on a hand-computed timeline (README: "DORA metrics")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest

from ledger.domain import commands as c

from .conftest import ALICE, T0, Story, config, hours

DAY = timedelta(days=1)
UNTIL = (T0 + 10 * DAY).isoformat()  # the window is [T0, T0 + 10 days)


def deploy(env: str, bid: str, app: str = "shop", **kw: Any) -> c.Deploy:
    return c.Deploy(app=app, env=env, build_id=bid, **kw)


@pytest.fixture
def timeline(story: Story) -> Story:
    s = story
    s.at(T0 - 2 * DAY, c.CreateApp(app="shop"), ALICE)
    s.build(T0 - 2 * DAY, "b0", committed_at=T0 - 3 * DAY)
    s.at(T0 - DAY, deploy("prod", "b0", strategy="canary", steps=[50, 100]))  # before the window
    s.at(T0 + hours(1), c.ProgressRollout(app="shop", env="prod", version=1, status="completed"))
    s.build(T0 + DAY + hours(1), "b1", committed_at=T0 + DAY)
    s.build(T0 + 2 * DAY + hours(1), "b2", committed_at=T0 + 2 * DAY)
    s.build(T0 + 3 * DAY, "b3")  # no committed_at
    s.at(T0 + DAY + hours(2), deploy("prod", "b1"))  # v2: lead 2h
    s.at(T0 + DAY + hours(3), config({"A": "1"}))  # v3, a config release
    s.at(T0 + DAY + hours(4), c.SetFlag(app="shop", env="prod", flag="f", enabled=True))
    s.at(T0 + 2 * DAY + hours(2), deploy("prod", "b2", strategy="canary", steps=[50, 100]))
    rollout = c.ProgressRollout(app="shop", env="prod", version=4, percent=100)
    s.at(T0 + 2 * DAY + hours(3), rollout)
    s.at(
        T0 + 2 * DAY + hours(4), msgspec.structs.replace(rollout, percent=None, status="completed")
    )
    s.at(T0 + 2 * DAY + hours(5), c.Rollback(app="shop", env="prod", reason="5xx"), ALICE)  # v5
    s.at(T0 + 3 * DAY + hours(1), deploy("prod", "b3"))  # v6: lead unknown
    s.at(T0 + DAY, config({"A": "1"}, env="staging"))
    s.at(T0 + DAY + hours(1), deploy("staging", "b1"))  # lead 1h
    s.at(T0 + 5 * DAY - hours(1), c.CreateApp(app="api"), ALICE)
    s.build(T0 + 5 * DAY - hours(1), "a1", committed_at=T0 + 5 * DAY - hours(0.5), app="api")
    s.at(T0 + 5 * DAY, deploy("prod", "a1", app="api"))  # lead 30 min
    s.at(T0 + 11 * DAY, deploy("prod", "b2"))  # after the window
    return s


async def test_one_environment(read: Any, timeline: Story) -> None:
    reader = await read()
    report = await reader.ok("/v1/apps/shop/envs/prod/dora", days=10, until=UNTIL)
    assert (report["since"], report["until"]) == ("2025-03-01T09:00:00Z", "2025-03-11T09:00:00Z")
    assert report["environments"] == []
    assert report["metrics"] == {
        "deployments": 3,
        "flag_changes": 0,
        "rollbacks": 1,
        "deployment_frequency": 0.3,
        # b1: 2h to v2; b2: 4h to the end of v4's rollout
        "lead_time": {"count": 2, "median_seconds": 10800.0, "p90_seconds": 14400.0},
        "lead_time_unknown": 1,
        "failed_deployments": 1,
        "change_failure_rate": pytest.approx(1 / 3),
        # v4 went out at T0+2d 2h and was rolled back at T0+2d 5h
        "time_to_restore": {"count": 1, "median_seconds": 10800.0, "p90_seconds": 10800.0},
        "unrestored": 0,
        "time_drifted_seconds": 0.0,  # no runtime reports
        "unrecorded_artifacts": 0,
        # no policy: nothing waited for approval, nothing was refused
        "lead_time_approval_wait": {"count": 0, "median_seconds": None, "p90_seconds": None},
        "lead_time_excluding_approval_wait": report["metrics"]["lead_time"],
        "refused_changes": 0,
        "overridden_changes": 0,
        "expired_requests": 0,
    }


async def test_config_releases_and_flag_flips_count_when_asked(read: Any, timeline: Story) -> None:
    reader = await read()
    report = await reader.ok(
        "/v1/apps/shop/envs/prod/dora", days=10, until=UNTIL, include_config="true"
    )
    m = report["metrics"]
    assert (m["deployments"], m["flag_changes"], m["failed_deployments"]) == (4, 1, 1)
    assert (m["deployment_frequency"], m["change_failure_rate"]) == (0.5, 0.25)


async def test_across_apps_pooled_and_per_environment(read: Any, timeline: Story) -> None:
    reader = await read()
    prod = await reader.ok("/v1/dora", days=10, until=UNTIL, env="prod")
    assert [(e["app"], e["env"]) for e in prod["environments"]] == [
        ("api", "prod"),
        ("shop", "prod"),
    ]
    m = prod["metrics"]
    assert (m["deployments"], m["deployment_frequency"], m["change_failure_rate"]) == (4, 0.4, 0.25)
    assert m["lead_time"] == {"count": 3, "median_seconds": 7200.0, "p90_seconds": 14400.0}
    everywhere = await reader.ok("/v1/dora", days=10, until=UNTIL)
    assert len(everywhere["environments"]) == 3
    assert everywhere["metrics"]["lead_time"]["median_seconds"] == 5400.0  # 30m 1h 2h 4h
    narrow = await reader.ok("/v1/dora", days=1, until=UNTIL)
    assert (
        narrow["metrics"]["deployments"] == 0 and narrow["metrics"]["change_failure_rate"] is None
    )


async def test_unknown_environment_is_404_and_bad_parameters_422(
    read: Any, timeline: Story
) -> None:
    reader = await read()
    await reader.problem(404, "/v1/apps/shop/envs/qa/dora")
    path = "/v1/apps/shop/envs/prod/dora"
    for name, value in (
        ("days", "0"), ("days", "400"), ("days", "x"), ("include_config", "maybe"),
        ("until", "tomorrow"),
    ):  # fmt: skip
        problem = await reader.problem(422, path, **{name: value})
        assert problem["errors"][0]["field"] == name
    problem = await reader.problem(422, "/v1/dora", env="Prod!")
    assert problem["errors"][0]["field"] == "env"
