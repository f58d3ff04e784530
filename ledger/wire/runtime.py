"""The runtime's wire shapes: a reporter's report, the answer to it, and what runs in an
environment as the state view and the drift list show it. Fields may be added, never renamed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from msgspec import Meta, Struct

from ledger.domain.commands import MAX_APP_INSTANCES, InstanceReport, Name, ReporterName
from ledger.domain.drift import assess, expectation, status_at
from ledger.domain.events import DriftFacts, OldRelease, RuntimeStatus
from ledger.domain.model import Environment
from ledger.domain.runtime import Runtime

MAX_WORKLOADS = 1000
MAX_INSTANCES = 5000


class Workload(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One app as a reporter sees it: its running instances."""

    app: Name
    instances: Annotated[list[InstanceReport], Meta(max_length=MAX_APP_INSTANCES)] = []


class RuntimeReport(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a reporter sees in one environment; ``complete``: everything it sees there."""

    reporter: ReporterName
    env: Name
    observed_at: datetime | None = None
    complete: bool = True
    workloads: Annotated[list[Workload], Meta(max_length=MAX_WORKLOADS)] = []


class ReportAnswer(Struct, kw_only=True):
    """What a report appended (``appended`` 0: it changed nothing), app by app."""

    position: int
    appended: int
    changed_apps: list[str]
    unknown_apps: list[str]  # named by the report, unknown to the ledger: not recorded


class InstanceView(Struct, kw_only=True):
    id: str
    artifact_digest: str
    release_version: int | None
    reporter: str
    started_at: datetime | None = None


class DriftView(Struct, kw_only=True):
    since: datetime | None
    unrecorded_artifacts: list[str]
    old_releases: list[OldRelease]
    other_artifacts: list[str] = []


class RuntimeView(Struct, kw_only=True):
    """What runs in an environment, against what its release line expects."""

    status: RuntimeStatus
    observed_at: datetime | None
    expected_artifact: str | None
    instances: list[InstanceView]
    drift: DriftView | None
    expected_version: int | None = None
    reporters: dict[str, datetime] = {}  # each reporter's last report (unchanged ones too)


class DriftItem(Struct, kw_only=True):
    app: str
    env: str
    runtime: RuntimeView


class DriftList(Struct, kw_only=True):
    items: list[DriftItem]


class Durations(Struct, frozen=True):
    """How long old instances may run after a release, and a reporter may stay silent."""

    grace: timedelta
    stale: timedelta


def runtime_view(
    runtime: Runtime | None,
    env: Environment | None,
    last_reports: dict[str, datetime],
    now: datetime,
    durations: Durations,
) -> RuntimeView:
    """The runtime as read at ``now``: its status (unknown when every reporter is stale)."""
    expected = expectation(env, durations.grace)
    facts = assess(expected, runtime, now)
    reports = {**_observed(runtime), **last_reports}
    status = status_at(facts, runtime, reports, now, durations.stale)
    released = expected.released
    return RuntimeView(
        status=status,
        observed_at=max(reports.values(), default=None),
        expected_artifact=expected_artifact(env),
        expected_version=expected.version,
        instances=[
            InstanceView(
                id=i.id,
                artifact_digest=i.artifact_digest,
                release_version=released.get(i.artifact_digest),
                reporter=reporter,
                started_at=i.started_at,
            )
            for reporter, i in (runtime.instances() if runtime else [])
        ],
        drift=_drift(facts, runtime) if status in ("drifted", "not_running") else None,
        reporters=reports,
    )


def expected_artifact(env: Environment | None) -> str | None:
    current = env.current() if env else None
    return current.artifact_digest if current else None


def _observed(runtime: Runtime | None) -> dict[str, datetime]:
    if runtime is None:
        return {}
    return {r: o.observed_at for r, o in runtime.observations.items()}


def _drift(facts: DriftFacts, runtime: Runtime | None) -> DriftView:
    return DriftView(
        since=runtime.drift_since if runtime else None,
        unrecorded_artifacts=list(facts.unrecorded_artifacts),
        old_releases=list(facts.old_releases),
        other_artifacts=list(facts.other_artifacts),
    )
