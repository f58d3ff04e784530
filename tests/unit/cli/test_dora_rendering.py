"""`ledger dora` shows what the gates did to the lead time: the wait for approval apart from the
rest, and the changes refused, overridden and expired."""

from __future__ import annotations

import pytest

from ledger.cli import render

METRICS = {
    "deployments": 4, "deployment_frequency": 0.5, "flag_changes": 1, "rollbacks": 0,
    "lead_time": {"count": 3, "median_seconds": 7200, "p90_seconds": 10800},
    "lead_time_unknown": 0, "change_failure_rate": 0.25, "failed_deployments": 1,
    "time_to_restore": {"count": 1, "median_seconds": 600, "p90_seconds": 600}, "unrestored": 0,
    "lead_time_approval_wait": {"count": 2, "median_seconds": 3600, "p90_seconds": 5400},
    "lead_time_excluding_approval_wait": {"count": 2, "median_seconds": 1800, "p90_seconds": 1800},
    "refused_changes": 5, "overridden_changes": 1, "expired_requests": 2,
}  # fmt: skip


def test_the_approval_wait_and_the_gates_counts_are_shown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    render.dora({"app": "shop", "env": "prod", "days": 30, "metrics": METRICS})
    out = " ".join(capsys.readouterr().out.split())
    assert "waiting for approval median 1h" in out
    assert "(2 changes); the rest of the lead time: median 30m" in out
    assert "gates 5 refused, 1 overridden, 2 requests expired" in out
