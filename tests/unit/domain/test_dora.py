"""DORA metrics of a hand-computed timeline: ten days of prod, every number worked out below."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger.domain.dora import (
    Durations,
    EnvironmentSteps,
    FlagFlipped,
    ReleaseMade,
    RolloutEnded,
    Step,
    durations,
    metrics,
    outcomes,
)

T = datetime(2025, 3, 1, tzinfo=UTC)
H, D = timedelta(hours=1), timedelta(days=1)
COMMITTED = {
    ("shop", "b1"): T - 2 * H,
    ("shop", "b2"): T + D,
    ("shop", "b3"): T + 2 * D,
    ("shop", "b4"): None,  # recorded without committed_at
    ("shop", "b5"): T + 5 * D,
    ("shop", "b6"): T + 7 * D + 12 * H,
}


def made(version: int, cause: str, build: str | None, at: datetime, canary: bool = False) -> Step:
    status = "rolling_out" if canary else "succeeded"
    return ReleaseMade(version=version, cause=cause, status=status, build_id=build, at=at)  # type: ignore[arg-type]


def ended(version: int, status: str, at: datetime) -> Step:
    return RolloutEnded(version=version, status=status, at=at)  # type: ignore[arg-type]


TIMELINE = [
    made(1, "deploy", "b1", T + H),  # lead b1: 3h
    made(2, "config", "b1", T + 2 * H),
    FlagFlipped(at=T + 3 * H),
    made(3, "deploy", "b2", T + D + 4 * H, canary=True),
    ended(3, "succeeded", T + D + 6 * H),  # lead b2: 6h (to the end of the rollout)
    made(4, "deploy", "b3", T + 2 * D + H),  # lead b3: 1h
    made(5, "rollback", "b2", T + 2 * D + 3 * H),  # v4 failed; restored after 2h
    made(6, "deploy", "b4", T + 3 * D, canary=True),
    ended(6, "aborted", T + 3 * D + H / 2),  # v6 failed ...
    made(7, "deploy", "b4", T + 4 * D),  # ... restored by v7 after 1 day; b4: no commit time
    made(8, "deploy", "b5", T + 5 * D + H),  # lead b5: 1h
    made(9, "config", "b5", T + 6 * D),
    made(10, "rollback", "b5", T + 6 * D + H),  # v9 (config) failed; restored after 1h
    made(11, "deploy", "b2", T + 7 * D),  # b2 again: its lead time counts once
    made(12, "promote", "b6", T + 8 * D),  # lead b6: 12h
    made(13, "deploy", "b3", T + 9 * D, canary=True),
    ended(13, "failed", T + 9 * D + 2 * H),  # v13 failed, not restored yet
    FlagFlipped(at=T + 9 * D + 3 * H),
]
PROD = EnvironmentSteps(app="shop", env="prod", steps=TIMELINE)


def test_deployments_failures_and_rates_of_deploys_and_promotions() -> None:
    m = metrics([PROD], COMMITTED, days=10)
    assert (m.deployments, m.rollbacks, m.flag_changes) == (9, 2, 0)
    assert m.deployment_frequency == pytest.approx(0.9)
    assert m.failed_deployments == 3  # v4 rolled back, v6 aborted, v13 failed
    assert m.change_failure_rate == pytest.approx(3 / 9)


def test_lead_time_runs_from_commit_to_success_once_per_build() -> None:
    m = metrics([PROD], COMMITTED, days=10)
    # b5 1h, b3 1h, b1 3h, b2 6h, b6 12h: median 3h, p90 the 5th of 5
    assert m.lead_time == Durations(count=5, median_seconds=3 * 3600.0, p90_seconds=12 * 3600.0)
    assert m.lead_time_unknown == 1  # b4


def test_time_to_restore_runs_from_the_failed_release_to_the_next_good_one() -> None:
    m = metrics([PROD], COMMITTED, days=10)
    # v4: 2h (the rollback), v6: 1 day (v7); v13 is still failed
    assert m.time_to_restore == Durations(count=2, median_seconds=13 * 3600.0, p90_seconds=86400.0)
    assert m.unrestored == 1


def test_with_config_config_releases_and_flag_flips_count_as_changes() -> None:
    m = metrics([PROD], COMMITTED, days=10, include_config=True)
    assert (m.deployments, m.flag_changes) == (11, 2)
    assert m.deployment_frequency == pytest.approx(1.3)
    assert m.failed_deployments == 4  # and v9, the config release rolled back
    assert m.change_failure_rate == pytest.approx(4 / 11)
    assert m.time_to_restore == Durations(count=3, median_seconds=7200.0, p90_seconds=86400.0)
    assert m.lead_time.count == 5  # a config release has no commit to measure from


def test_environments_are_followed_apart_and_pooled() -> None:
    # staging: b1 out 2h after its commit, rolled back (to a release before the window) 1h later
    staging = EnvironmentSteps(
        app="shop",
        env="staging",
        steps=[made(1, "deploy", "b1", T), made(2, "rollback", None, T + H)],
    )
    m = metrics([PROD, staging], COMMITTED, days=10)
    assert (m.deployments, m.failed_deployments, m.rollbacks) == (10, 4, 3)
    # a build counts once per environment: b1 in staging (2h) as well as in prod (3h)
    assert m.lead_time == Durations(count=6, median_seconds=9000.0, p90_seconds=43200.0)
    assert m.time_to_restore == Durations(count=3, median_seconds=7200.0, p90_seconds=86400.0)


def test_a_rollback_marks_the_release_that_ran_even_during_a_canary() -> None:
    steps = [
        made(1, "deploy", "b1", T),
        made(2, "deploy", "b2", T + H, canary=True),
        made(3, "rollback", "b1", T + 2 * H),
    ]
    found, _ = outcomes(steps)
    assert [(o.version, o.status, o.failure) for o in found] == [
        (1, "superseded", None),
        (2, "aborted", "rolled_back"),
        (3, "succeeded", None),
    ]
    assert found[1].restored_at == T + 2 * H


def test_an_empty_window_has_no_rates() -> None:
    m = metrics([], {}, days=30)
    assert (m.deployments, m.deployment_frequency, m.change_failure_rate) == (0, 0.0, None)
    assert m.lead_time == Durations(count=0, median_seconds=None, p90_seconds=None)


def test_percentiles_by_nearest_rank() -> None:
    assert durations([5.0, 1.0, 3.0, 2.0]) == Durations(
        count=4, median_seconds=2.5, p90_seconds=5.0
    )
    assert durations([float(n) for n in range(1, 11)]).p90_seconds == 9.0
