"""Drift: whether what runs is what the release line says should run. Pure.

The status of an app in an environment is derived from its releases (what should run), the
latest report of each reporter (what runs: the union of their reports), the time, and two
durations: how long old instances may keep running after a release completed (the grace), and
how old a reporter's last report may be before nothing is known (staleness, applied at read
time only: an unchanged report is no event, so its time is not in the stream).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from msgspec import Struct

from ledger.domain.events import DriftFacts, OldRelease, RuntimeStatus
from ledger.domain.model import Environment, Release
from ledger.domain.runtime import Runtime

BAD: tuple[RuntimeStatus, ...] = ("drifted", "not_running")


class Expectation(Struct, frozen=True, kw_only=True):
    """What the release line expects to run, and how to name anything else."""

    version: int | None = None
    digests: frozenset[str] = frozenset()  # expected now
    settling: frozenset[str] = frozenset()  # the previous release's, until the grace ends
    settles_at: datetime | None = None
    released: Mapping[str, int] = {}  # digest -> the newest release that pinned it


def expectation(env: Environment | None, grace: timedelta) -> Expectation:
    """What the environment's current release expects: its artifact, and during a rollout (or
    for ``grace`` after it completed, or after a canary was cut short) the previous release's
    too, and the cut-short canary's."""
    current = env.current() if env else None
    if env is None or current is None:
        return Expectation()
    released = {r.artifact_digest: r.version for r in env.releases if r.artifact_digest}
    expected = _digests(current)
    previous = _previous(env, current)
    old = _digests(previous) - expected
    if current.status == "rolling_out":
        return Expectation(version=current.version, digests=expected | old, released=released)
    cut_short = _cut_short(env, previous)
    settled = max(
        [
            current.completed_at or current.created_at,
            *(r.ended_at or r.created_at for r in cut_short),
        ]
    )
    return Expectation(
        version=current.version,
        digests=expected,
        settling=old | (_digests(*cut_short) - expected),
        settles_at=settled + grace,
        released=released,
    )


def _digests(*releases: Release | None) -> frozenset[str]:
    return frozenset(r.artifact_digest for r in releases if r is not None and r.artifact_digest)


def _previous(env: Environment, current: Release) -> Release | None:
    """The release that ran before ``current``: the newest older one that succeeded."""
    earlier = env.releases[: current.version - 1]
    return next((r for r in reversed(earlier) if r.status in ("succeeded", "superseded")), None)


def _cut_short(env: Environment, previous: Release | None) -> list[Release]:
    """The releases since ``previous`` whose rollout was aborted or failed: their instances
    are being taken down as the current release takes over again."""
    since = previous.version if previous else 0
    return [r for r in env.releases if r.version > since and r.status in ("aborted", "failed")]


def assess(expected: Expectation, runtime: Runtime | None, now: datetime) -> DriftFacts:
    """The status of the runtime against the release line at ``now`` (staleness aside)."""
    if runtime is None or not runtime.observations:
        return DriftFacts(status="unknown", expected_version=expected.version)
    seen = sorted({i.artifact_digest for _, i in runtime.instances()})
    allowed = expected.digests
    if expected.settles_at is not None and now < expected.settles_at:
        allowed = allowed | expected.settling
    facts = DriftFacts(
        status="in_sync",
        expected_version=expected.version,
        expected=tuple(sorted(expected.digests)),
        seen=tuple(seen),
    )
    if not seen:
        complete = any(o.complete for o in runtime.observations.values())
        missing = complete and expected.version is not None
        return _with(facts, "not_running") if missing else facts
    strays = [d for d in seen if d not in allowed]
    if not strays:
        return facts
    unrecorded = runtime.unrecorded()
    return _with(
        facts,
        "drifted",
        unrecorded_artifacts=tuple(d for d in strays if d in unrecorded),
        old_releases=tuple(
            OldRelease(expected.released[d], d) for d in strays if d in expected.released
        ),
        other_artifacts=tuple(
            d for d in strays if d not in unrecorded and d not in expected.released
        ),
    )


def _with(facts: DriftFacts, status: RuntimeStatus, **more: object) -> DriftFacts:
    return DriftFacts(**{**_fields(facts), "status": status, **more})  # type: ignore[arg-type]


def _fields(facts: DriftFacts) -> dict[str, object]:
    return {f: getattr(facts, f) for f in facts.__struct_fields__}


def status_at(
    facts: DriftFacts,
    runtime: Runtime | None,
    last_reports: Mapping[str, datetime],
    now: datetime,
    stale: timedelta,
) -> RuntimeStatus:
    """The status as read at ``now``: unknown when every reporter's last report is stale."""
    if runtime is None or not runtime.observations:
        return "unknown"
    times = [last_reports.get(r, o.observed_at) for r, o in runtime.observations.items()]
    if all(now - t > stale for t in times):
        return "unknown"
    return facts.status
