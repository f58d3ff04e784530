"""DORA counts the time each environment spent drifted and the unrecorded artifacts found
running, per window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledger.domain.dora import EnvironmentSteps, metrics
from ledger.domain.dora_drift import DriftSeen, drift_of

SINCE = datetime(2025, 3, 1, tzinfo=UTC)
UNTIL = SINCE + timedelta(days=1)
X, Y = "sha256:" + "e" * 64, "sha256:" + "f" * 64


def at(hours: float) -> datetime:
    return SINCE + timedelta(hours=hours)


def test_drift_detected_then_resolved_counts_the_time_between() -> None:
    steps = [DriftSeen(at=at(1), drifted=True, unrecorded=(X,)), DriftSeen(at=at(3), drifted=False)]
    assert drift_of(steps, SINCE, UNTIL) == (2 * 3600, {X})


def test_a_change_of_drift_does_not_restart_the_clock() -> None:
    steps = [
        DriftSeen(at=at(1), drifted=True),
        DriftSeen(at=at(2), drifted=True, unrecorded=(Y,)),
        DriftSeen(at=at(4), drifted=False),
    ]
    assert drift_of(steps, SINCE, UNTIL) == (3 * 3600, {Y})


def test_drift_resolved_in_the_window_began_before_it() -> None:
    assert drift_of([DriftSeen(at=at(2), drifted=False)], SINCE, UNTIL) == (2 * 3600, set())


def test_drift_still_open_counts_to_the_end_of_the_window() -> None:
    assert drift_of([DriftSeen(at=at(20), drifted=True)], SINCE, UNTIL)[0] == 4 * 3600


def test_metrics_sum_environments_and_count_distinct_unrecorded_artifacts() -> None:
    envs = [
        EnvironmentSteps(
            app="shop",
            env=env,
            steps=[
                DriftSeen(at=at(1), drifted=True, unrecorded=(X,)),
                DriftSeen(at=at(2), drifted=False),
            ],
        )
        for env in ("prod", "staging")
    ]
    found = metrics(envs, {}, days=1, window=(SINCE, UNTIL))
    assert (found.time_drifted_seconds, found.unrecorded_artifacts) == (2 * 3600, 1)
    assert found.deployments == 0
