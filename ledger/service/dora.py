"""Delivery performance (DORA) of environments: the timeline from the history view, each
build's commit time and each change request's end from the event store, and the pure math of
``ledger.domain.dora``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import msgspec

from ledger.domain.dora import (
    BUILD_CAUSES,
    ChangeRefused,
    DoraMetrics,
    EnvironmentSteps,
    FlagFlipped,
    ReleaseMade,
    RequestExpired,
    RolloutEnded,
    Step,
    metrics,
)
from ledger.domain.dora_drift import DriftSeen
from ledger.domain.events import ReleaseStatus
from ledger.domain.model import Build
from ledger.domain.names import build_id
from ledger.domain.requests import ChangeRequest, request_stream
from ledger.eventstore.application import LedgerStore
from ledger.wire.shapes import DoraView, EnvironmentDora, HistoryItem

if TYPE_CHECKING:
    from projections.queries import Queries

RELEASE_KINDS = ("config", "deploy", "promote", "rollback")
EVERY_APP = "*"  # a policy level, not an app: refusals to change it are no app's


class _Release(msgspec.Struct):
    version: int
    status: ReleaseStatus
    build_id: str | None = None


class _Gates(msgspec.Struct):
    requested_at: datetime | None = None
    overrode: list[str] = []


class _Rollout(msgspec.Struct):
    version: int
    status: ReleaseStatus


class Window(msgspec.Struct, frozen=True, kw_only=True):
    """What a report covers: [until - days, until), optionally one app and/or one env."""

    days: int
    until: datetime
    app: str | None = None
    env: str | None = None
    include_config: bool = False
    breakdown: bool = False  # per-environment metrics as well

    @property
    def since(self) -> datetime:
        return self.until - timedelta(days=self.days)


class Timeline(msgspec.Struct, kw_only=True):
    """What a window's metrics are computed from: its history items in log order, when each
    change request among them expired, their steps by environment, and when each build they
    deployed was committed."""

    items: list[HistoryItem]
    expired: dict[str, datetime]
    envs: list[EnvironmentSteps]
    committed: dict[tuple[str, str], datetime | None]


async def report(queries: Queries, store: LedgerStore, window: Window) -> DoraView:
    """The DORA metrics of the window's environments, pooled (and broken down if asked)."""
    timeline = await read_timeline(queries, store, window)
    envs = timeline.envs
    return DoraView(
        app=window.app,
        env=window.env,
        since=window.since,
        until=window.until,
        days=window.days,
        include_config=window.include_config,
        metrics=pooled(window, envs, timeline.committed),
        environments=[
            EnvironmentDora(app=e.app, env=e.env, metrics=pooled(window, [e], timeline.committed))
            for e in envs
        ]
        if window.breakdown
        else [],
    )


async def read_timeline(queries: Queries, store: LedgerStore, window: Window) -> Timeline:
    """The window's timeline from the history view, with what the event store adds to it."""
    items = await queries.timeline(window.since, window.until, window.app, window.env)
    expired = await asyncio.to_thread(expired_at, store, requests_of(items))
    envs = steps_by_environment(items, expired)
    committed = await asyncio.to_thread(committed_at, store, builds_deployed(envs))
    return Timeline(items=items, expired=expired, envs=envs, committed=committed)


def pooled(
    window: Window,
    envs: list[EnvironmentSteps],
    committed: Mapping[tuple[str, str], datetime | None],
) -> DoraMetrics:
    """The metrics of the environments' steps in the window, pooled."""
    return metrics(
        envs,
        committed,
        days=window.days,
        include_config=window.include_config,
        window=(window.since, window.until),
    )


def steps_by_environment(
    items: Iterable[HistoryItem], expired: Mapping[str, datetime] | None = None
) -> list[EnvironmentSteps]:
    """The history items as steps, per environment (in log order), environments by name;
    ``expired``: when each change request that expired did (see ``expired_at``)."""
    envs: dict[tuple[str, str], EnvironmentSteps] = {}
    for item in items:
        step = step_of(item, expired or {})
        if step is None or item.env is None or item.app == EVERY_APP:
            continue
        key = (item.app, item.env)
        if key not in envs:
            envs[key] = EnvironmentSteps(app=item.app, env=item.env, steps=[])
        envs[key].steps.append(step)
    return [envs[key] for key in sorted(envs)]


def step_of(item: HistoryItem, expired: Mapping[str, datetime]) -> Step | None:
    """A history item as a DORA step; None for one that is none (a rollout step in between)."""
    if item.kind in RELEASE_KINDS:
        release = msgspec.convert(item.data["release"], _Release)
        gates = msgspec.convert(item.data.get("gates") or {}, _Gates)
        return ReleaseMade(
            version=release.version,
            cause=item.kind,  # type: ignore[arg-type]
            status=release.status,
            build_id=release.build_id,
            at=item.recorded_at,
            requested_at=gates.requested_at,
            overridden=bool(gates.overrode),
        )
    if item.kind == "rollout":
        rollout = msgspec.convert(item.data, _Rollout)
        if rollout.status == "rolling_out":
            return None
        return RolloutEnded(version=rollout.version, status=rollout.status, at=item.recorded_at)
    if item.kind == "flag":
        return FlagFlipped(at=item.recorded_at)
    if item.kind == "runtime" and "drift" in item.data:
        found = item.data["drift"].get("unrecorded_artifacts", [])
        return DriftSeen(
            at=item.recorded_at, drifted="was" not in item.data, unrecorded=tuple(found)
        )
    return _gate_step(item, expired)


def _gate_step(item: HistoryItem, expired: Mapping[str, datetime]) -> Step | None:
    """A refusal, or the expiry of a change request (its ending event, at its end)."""
    if item.kind == "denied":
        return ChangeRefused(at=item.recorded_at)
    if item.kind == "request" and expired.get(item.data["request_id"]) == item.recorded_at:
        return RequestExpired(at=item.recorded_at)
    return None


def requests_of(items: Iterable[HistoryItem]) -> set[str]:
    """The change requests the items are steps of."""
    return {item.data["request_id"] for item in items if item.kind == "request"}


def expired_at(store: LedgerStore, request_ids: Iterable[str]) -> dict[str, datetime]:
    """When each of the change requests that expired did, as its stream says."""
    found: dict[str, datetime] = {}
    for request_id in request_ids:
        request = store.load(request_stream(request_id))
        if isinstance(request, ChangeRequest) and request.status == "expired":
            assert request.ended_at is not None
            found[request_id] = request.ended_at
    return found


def builds_deployed(envs: Iterable[EnvironmentSteps]) -> set[tuple[str, str]]:
    """(app, build id) of every build a deploy or promotion in the steps released."""
    return {
        (env.app, step.build_id)
        for env in envs
        for step in env.steps
        if isinstance(step, ReleaseMade) and step.cause in BUILD_CAUSES and step.build_id
    }


def committed_at(
    store: LedgerStore, builds: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], datetime | None]:
    """When each build's commit was made, as its BuildRecorded says (None: not given)."""
    found: dict[tuple[str, str], datetime | None] = {}
    for app, bid in builds:
        build = store.load(build_id(app, bid))
        found[(app, bid)] = build.recorded.committed_at if isinstance(build, Build) else None
    return found
