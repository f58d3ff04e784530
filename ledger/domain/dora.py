"""DORA metrics of delivery: deployment frequency, lead time for changes, change failure rate
and time to restore, with what the gates did to them: lead time split into the wait for
approval and the rest, and the changes refused, overridden and expired. Pure: steps in,
numbers out. The README ("DORA metrics") defines each.

The steps of one environment are replayed in log order by ``outcomes``, which follows what
became of each release made in the window; ``metrics`` turns the outcomes into numbers.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Literal

from msgspec import Struct, field

from ledger.domain.dora_drift import DriftSeen, drift_of
from ledger.domain.events import ReleaseCause, ReleaseStatus
from ledger.domain.model import LIVE

BUILD_CAUSES = ("deploy", "promote")
Failure = Literal["aborted", "failed", "rolled_back"]


class ReleaseMade(Struct, frozen=True, kw_only=True):
    """A release was created (by a deploy, promotion, config change or rollback)."""

    version: int
    cause: ReleaseCause
    status: ReleaseStatus
    build_id: str | None
    at: datetime
    requested_at: datetime | None = None  # made through a change request asked for then
    overridden: bool = False  # an admin overrode a freeze window to make it


class RolloutEnded(Struct, frozen=True, kw_only=True):
    """A canary rollout was completed (``succeeded``), aborted or failed."""

    version: int
    status: ReleaseStatus
    at: datetime


class FlagFlipped(Struct, frozen=True, kw_only=True):
    at: datetime


class ChangeRefused(Struct, frozen=True, kw_only=True):
    """The policy refused a command (recorded as denied)."""

    at: datetime


class RequestExpired(Struct, frozen=True, kw_only=True):
    """A change request expired before it had its approvals."""

    at: datetime


Step = ReleaseMade | RolloutEnded | FlagFlipped | DriftSeen | ChangeRefused | RequestExpired


class Outcome(Struct, kw_only=True):
    """What became of one release made in the window."""

    version: int
    cause: ReleaseCause
    build_id: str | None
    created_at: datetime
    status: ReleaseStatus
    succeeded_at: datetime | None = None
    failure: Failure | None = None
    restored_at: datetime | None = None
    requested_at: datetime | None = None

    @property
    def approval_wait(self) -> float:
        """Seconds from the change's request to its release (0 without a request)."""
        requested = self.requested_at or self.created_at
        return (self.created_at - requested).total_seconds()


class Durations(Struct, kw_only=True):
    """A distribution of durations in seconds: how many, the median and the 90th percentile."""

    count: int
    median_seconds: float | None
    p90_seconds: float | None


def no_durations() -> Durations:
    return Durations(count=0, median_seconds=None, p90_seconds=None)


class DoraMetrics(Struct, kw_only=True):
    deployments: int
    flag_changes: int
    rollbacks: int
    deployment_frequency: float  # changes per day
    lead_time: Durations
    lead_time_unknown: int  # succeeded deployments whose build has no committed_at
    failed_deployments: int
    change_failure_rate: float | None
    time_to_restore: Durations
    unrestored: int
    time_drifted_seconds: float = 0.0  # summed over environments
    unrecorded_artifacts: int = 0  # distinct unrecorded artifacts found running
    # the lead times made through a change request: from its request to its release
    lead_time_approval_wait: Durations = field(default_factory=no_durations)
    # every lead time less its wait for approval
    lead_time_excluding_approval_wait: Durations = field(default_factory=no_durations)
    refused_changes: int = 0  # commands the policy refused
    overridden_changes: int = 0  # releases made by overriding a freeze window
    expired_requests: int = 0  # change requests that expired unapproved


class EnvironmentSteps(Struct, kw_only=True):
    """The steps of one environment in the window, in log order."""

    app: str
    env: str
    steps: list[Step]


def outcomes(steps: Iterable[Step]) -> tuple[list[Outcome], int]:
    """Each release made by the steps with what became of it, and the number of flag flips."""
    made: dict[int, Outcome] = {}
    flips = 0
    for step in steps:
        if isinstance(step, FlagFlipped):
            flips += 1
        elif isinstance(step, ReleaseMade):
            _release_made(made, step)
        elif isinstance(step, RolloutEnded) and step.version in made:
            _rollout_ended(made, made[step.version], step)
    return list(made.values()), flips


def _release_made(made: dict[int, Outcome], step: ReleaseMade) -> None:
    if step.cause == "rollback":
        replaced = _current(made)
        if replaced is not None and replaced.failure is None:
            replaced.failure = "rolled_back"
    outcome = Outcome(
        version=step.version,
        cause=step.cause,
        build_id=step.build_id,
        created_at=step.at,
        status=step.status,
        requested_at=step.requested_at,
    )
    made[step.version] = outcome
    if step.status == "succeeded":
        _succeeded(made, outcome, step.at)


def _rollout_ended(made: dict[int, Outcome], outcome: Outcome, step: RolloutEnded) -> None:
    outcome.status = step.status
    if step.status == "succeeded":
        _succeeded(made, outcome, step.at)
    elif step.status in ("aborted", "failed") and outcome.failure is None:
        outcome.failure = step.status


def _current(made: dict[int, Outcome]) -> Outcome | None:
    """The release that runs now, when it was made in the window (the domain's rule)."""
    return next(
        (o for o in sorted(made.values(), key=_version, reverse=True) if o.status in LIVE), None
    )


def _succeeded(made: dict[int, Outcome], outcome: Outcome, at: datetime) -> None:
    """A release reached succeeded: older ones are superseded, and failures before it are
    restored by it (a canary cut short is aborted, as the domain does)."""
    outcome.succeeded_at = at
    for older in made.values():
        if older.version >= outcome.version:
            continue
        if older.status == "rolling_out":
            older.status = "aborted"
            older.failure = older.failure or "aborted"
        elif older.status == "succeeded":
            older.status = "superseded"
        if older.failure is not None and older.restored_at is None:
            older.restored_at = at


def _version(outcome: Outcome) -> int:
    return outcome.version


def metrics(
    envs: Iterable[EnvironmentSteps],
    committed_at: Mapping[tuple[str, str], datetime | None],
    *,
    days: int,
    include_config: bool = False,
    window: tuple[datetime, datetime] | None = None,
) -> DoraMetrics:
    """The metrics of the environments' steps pooled; ``committed_at`` by (app, build id);
    ``window`` (since, until) bounds the time spent drifted."""
    envs = list(envs)
    drifted, unrecorded = _drift_totals(envs, window) if window else (0.0, 0)
    deployments: list[Outcome] = []
    leads = LeadTimes()
    flips = rollbacks = 0
    causes = (*BUILD_CAUSES, "config") if include_config else BUILD_CAUSES
    for env in envs:
        made, flipped = outcomes(env.steps)
        flips += flipped if include_config else 0
        rollbacks += sum(o.cause == "rollback" for o in made)
        counted = [o for o in made if o.cause in causes]
        deployments += counted
        leads.measure(env.app, _first_success_per_build(counted), committed_at)
    failed = [o for o in deployments if o.failure is not None]
    restored = [(o.restored_at - o.created_at).total_seconds() for o in failed if o.restored_at]
    steps = [step for env in envs for step in env.steps]
    return DoraMetrics(
        deployments=len(deployments),
        flag_changes=flips,
        rollbacks=rollbacks,
        deployment_frequency=(len(deployments) + flips) / days,
        lead_time=durations(leads.total),
        lead_time_unknown=leads.unknown,
        failed_deployments=len(failed),
        change_failure_rate=len(failed) / len(deployments) if deployments else None,
        time_to_restore=durations(restored),
        unrestored=len(failed) - len(restored),
        time_drifted_seconds=drifted,
        unrecorded_artifacts=unrecorded,
        lead_time_approval_wait=durations(leads.waits),
        lead_time_excluding_approval_wait=durations(leads.rest),
        refused_changes=sum(isinstance(step, ChangeRefused) for step in steps),
        overridden_changes=sum(isinstance(step, ReleaseMade) and step.overridden for step in steps),
        expired_requests=sum(isinstance(step, RequestExpired) for step in steps),
    )


class LeadTimes(Struct, kw_only=True):
    """Lead times in seconds, each split into its wait for approval and the rest."""

    total: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)  # of the changes made through a request
    rest: list[float] = field(default_factory=list)
    unknown: int = 0  # changes of a build with no commit time

    def measure(
        self,
        app: str,
        changes: Iterable[Outcome],
        committed_at: Mapping[tuple[str, str], datetime | None],
    ) -> None:
        """From each build's commit to its first success, for each change of a known commit."""
        for outcome in changes:
            committed = committed_at.get((app, outcome.build_id or ""))
            if committed is None:
                self.unknown += 1
                continue
            assert outcome.succeeded_at is not None
            lead = (outcome.succeeded_at - committed).total_seconds()
            self.total.append(lead)
            self.rest.append(lead - outcome.approval_wait)
            if outcome.requested_at is not None:
                self.waits.append(outcome.approval_wait)


def _drift_totals(
    envs: list[EnvironmentSteps], window: tuple[datetime, datetime]
) -> tuple[float, int]:
    """Seconds drifted, summed over the environments, and distinct unrecorded artifacts."""
    seconds, unrecorded = 0.0, set()
    for env in envs:
        drifted, found = drift_of(env.steps, *window)
        seconds += drifted
        unrecorded |= {(env.app, digest) for digest in found}
    return seconds, len(unrecorded)


def _first_success_per_build(made: list[Outcome]) -> list[Outcome]:
    """Deployments of a build that succeeded, each build once (its first success)."""
    seen: set[str] = set()
    first = []
    for outcome in sorted(made, key=_version):
        bid = outcome.build_id
        if outcome.cause in BUILD_CAUSES and bid and outcome.succeeded_at and bid not in seen:
            seen.add(bid)
            first.append(outcome)
    return first


def durations(seconds: list[float]) -> Durations:
    """Median, and the 90th percentile by nearest rank (the ⌈0.9·n⌉-th smallest)."""
    if not seconds:
        return no_durations()
    ordered = sorted(seconds)
    p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]
    return Durations(
        count=len(ordered), median_seconds=float(statistics.median(ordered)), p90_seconds=p90
    )
