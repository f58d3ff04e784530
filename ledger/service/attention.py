"""What needs someone now, of what the ledger itself knows: environments that drifted, change
requests waiting for approval, environments in a freeze window, and followers of the log that
fell behind or passed events over (webhooks and connectors tell their own, beside these)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ledger.domain.policies import default_policy, resolve
from ledger.domain.policy import Rules
from ledger.domain.windows import in_force
from ledger.eventstore.application import LedgerStore
from ledger.eventstore.policies import policy_levels
from ledger.service.drift import durations_of, not_in_sync
from ledger.settings import Settings
from ledger.wire.attention import (
    MAX_REQUESTS,
    AttentionFilter,
    DriftNeed,
    FollowerNeed,
    FrozenNeed,
)
from ledger.wire.gates import RequestView
from ledger.wire.runtime import DriftItem, RuntimeView
from projections.follower import lagging
from projections.queries import Queries
from projections.request_queries import RequestQuery
from projections.views import Views


@dataclass(frozen=True)
class EnvironmentNeeds:
    """The environments' part of an answer: drift, pending requests (listed, and how many in
    all) and freezes."""

    drift: list[DriftNeed]
    requests: tuple[list[RequestView], int]
    frozen: list[FrozenNeed]


async def environment_needs(
    store: LedgerStore,
    views: Views,
    queries: Queries,
    settings: Settings,
    where: AttentionFilter,
    now: datetime,
) -> EnvironmentNeeds:
    """What needs someone in the environments ``where`` names, as the views show them."""
    drifted = await not_in_sync(
        store, queries, views.heartbeats, durations_of(settings), now, app=where.app, env=where.env
    )
    asked = RequestQuery(app=where.app, env=where.env, limit=MAX_REQUESTS)
    requests = await queries.pending_requests(asked, now)
    places = [
        (app.name, summary.env)
        for app in await queries.apps()
        for summary in app.envs
        if where.includes(app.name, summary.env)
    ]
    frozen = await asyncio.to_thread(frozen_now, store, settings.rules(), places, now)
    return EnvironmentNeeds(drift=drift_needs(drifted), requests=requests, frozen=frozen)


def drift_needs(items: Iterable[DriftItem]) -> list[DriftNeed]:
    """The environments that drifted or where nothing runs (an unknown runtime, whose reporters
    are silent or absent, is no one's to act on here)."""
    needs = []
    for item in items:
        view = item.runtime
        if view.status not in ("drifted", "not_running"):
            continue
        drift = view.drift
        needs.append(
            DriftNeed(
                app=item.app, env=item.env, status=view.status, summary=drift_summary(view),
                since=drift.since if drift else None, observed_at=view.observed_at,
                expected_version=view.expected_version, expected_artifact=view.expected_artifact,
                unrecorded_artifacts=drift.unrecorded_artifacts if drift else [],
                old_releases=drift.old_releases if drift else [],
                other_artifacts=drift.other_artifacts if drift else [],
            )
        )  # fmt: skip
    return needs


def drift_summary(view: RuntimeView) -> str:
    """One line on what differs: "nothing runs (v3 expected)", "2 unrecorded artifacts; v1
    still runs"."""
    expected = f"v{view.expected_version} expected" if view.expected_version else "none released"
    if view.status == "not_running":
        return f"nothing runs ({expected})"
    drift = view.drift
    parts = []
    if drift is not None:
        parts += [_counted(len(drift.unrecorded_artifacts), "unrecorded artifact")]
        parts += [_counted(len(drift.other_artifacts), "artifact never released here")]
        parts += [f"v{old.version} still runs" for old in drift.old_releases]
    found = [part for part in parts if part]
    return "; ".join(found) if found else f"runs something else ({expected})"


def _counted(count: int, thing: str) -> str:
    return "" if count == 0 else f"{count} {thing}" + ("" if count == 1 else "s")


def frozen_now(
    store: LedgerStore, rules: Rules, places: Iterable[tuple[str, str]], now: datetime
) -> list[FrozenNeed]:
    """The places in a freeze window at ``now`` under the policy in force there (the app's
    level over every app's, ``*``, over the ledger's defaults). Synchronous: run in a thread."""
    frozen = []
    for app, env in places:
        star, own = policy_levels(store, app, env)
        policy = resolve(default_policy(rules, env), star, own)
        window = in_force(policy.freeze, now)
        if window is not None:
            frozen.append(
                FrozenNeed(
                    app=app, env=env, window=window.name, start=window.start, end=window.end,
                    policy=policy.version, reason=window.reason,
                )
            )  # fmt: skip
    return frozen


@dataclass
class Reached:
    """A follower's name and position, as ``projections.follower.lagging`` reads one."""

    name: str
    position: int
    owner: bool = True


def follower_needs(
    owned: Mapping[str, int], head: int, bound: int, passed_over: Mapping[str, list[int]]
) -> list[FollowerNeed]:
    """The followers this process owns (by name, at their position) more than ``bound``
    events behind ``head`` (LEDGER_READY_MAX_LAG, as /readyz counts), and every follower that
    passed events over, by name."""
    following = [Reached(name, position) for name, position in owned.items()]
    behind = set(lagging(following, head, bound))
    needs = []
    for name in sorted(behind | set(passed_over)):
        position = owned.get(name)
        lag = None if position is None else head - position
        needs.append(
            FollowerNeed(
                name=name, lag=lag, position=position, passed_over=list(passed_over.get(name, []))
            )
        )
    return needs
