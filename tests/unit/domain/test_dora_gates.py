"""DORA with the gates: lead time split into the wait for approval and the rest, and the
changes the gates refused, the freezes overridden and the requests that expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.dora import (
    ChangeRefused,
    DoraMetrics,
    Durations,
    EnvironmentSteps,
    ReleaseMade,
    RequestExpired,
    RolloutEnded,
    Step,
    metrics,
)

T = datetime(2025, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)
NONE = Durations(count=0, median_seconds=None, p90_seconds=None)


def made(
    version: int,
    build: str | None,
    at: datetime,
    *,
    requested: datetime | None = None,
    cause: str = "deploy",
    canary: bool = False,
    overridden: bool = False,
) -> ReleaseMade:
    return ReleaseMade(
        version=version,
        cause=cause,  # type: ignore[arg-type]
        status="rolling_out" if canary else "succeeded",
        build_id=build,
        at=at,
        requested_at=requested,
        overridden=overridden,
    )


def prod(*steps: Step) -> list[EnvironmentSteps]:
    return [EnvironmentSteps(app="shop", env="prod", steps=list(steps))]


def hours(*values: float) -> list[float]:
    return [v * 3600 for v in values]


COMMITTED = {("shop", f"b{n}"): T for n in range(1, 6)} | {("shop", "b9"): None}


def test_a_change_that_waited_for_approval_splits_its_lead_time() -> None:
    m = metrics(prod(made(1, "b1", T + 4 * H, requested=T + H)), COMMITTED, days=1)
    assert m.lead_time == Durations(count=1, median_seconds=4 * 3600, p90_seconds=4 * 3600)
    # requested 1h after the commit, approved and released 3h later
    assert m.lead_time_approval_wait == Durations(
        count=1, median_seconds=3 * 3600, p90_seconds=3 * 3600
    )
    assert m.lead_time_excluding_approval_wait == Durations(
        count=1, median_seconds=3600, p90_seconds=3600
    )


def test_changes_with_no_request_wait_for_nothing() -> None:
    steps = prod(
        made(1, "b1", T + 2 * H),  # lead 2h, no wait
        made(2, "b2", T + 5 * H, requested=T + 4 * H),  # lead 5h, waited 1h
        made(3, "b3", T + 10 * H, requested=T + 4 * H),  # lead 10h, waited 6h
    )
    m = metrics(steps, COMMITTED, days=1)
    assert m.lead_time_approval_wait == Durations(
        count=2, median_seconds=3.5 * 3600, p90_seconds=6 * 3600
    )
    # 2h, 4h, 4h: the wait is taken from the changes that waited only
    assert m.lead_time_excluding_approval_wait == Durations(
        count=3, median_seconds=4 * 3600, p90_seconds=4 * 3600
    )


def test_a_canary_waits_until_its_release_is_made_not_until_it_succeeds() -> None:
    steps = prod(
        made(1, "b1", T + 3 * H, requested=T + H, canary=True),
        RolloutEnded(version=1, status="succeeded", at=T + 8 * H),
    )
    m = metrics(steps, COMMITTED, days=1)
    assert m.lead_time.median_seconds == 8 * 3600
    assert m.lead_time_approval_wait.median_seconds == 2 * 3600
    assert m.lead_time_excluding_approval_wait.median_seconds == 6 * 3600


def test_the_split_covers_the_changes_lead_time_measures() -> None:
    steps = prod(
        made(1, "b9", T + 3 * H, requested=T + H),  # no commit time: no lead time, no split
        made(2, None, T + 4 * H, requested=T + 2 * H, cause="config"),  # no build
        made(3, "b1", T + 5 * H, requested=T + 3 * H),
        made(4, "b1", T + 9 * H, requested=T + 6 * H),  # b1 again: counted once
    )
    m = metrics(steps, COMMITTED, days=1, include_config=True)
    assert (m.lead_time.count, m.lead_time_unknown) == (1, 1)
    assert m.lead_time_approval_wait == Durations(
        count=1, median_seconds=2 * 3600, p90_seconds=2 * 3600
    )
    assert m.lead_time_excluding_approval_wait.median_seconds == 3 * 3600


def test_refusals_overrides_and_expiries_are_counted() -> None:
    steps = prod(
        ChangeRefused(at=T),
        made(1, "b1", T + H, overridden=True),
        ChangeRefused(at=T + 2 * H),
        RequestExpired(at=T + 3 * H),
        made(2, None, T + 4 * H, cause="config", overridden=True),  # config releases too
        made(3, "b1", T + 5 * H, cause="rollback"),
    )
    staging = EnvironmentSteps(app="shop", env="staging", steps=[ChangeRefused(at=T)])
    m = metrics([*steps, staging], COMMITTED, days=1)
    assert (m.refused_changes, m.overridden_changes, m.expired_requests) == (3, 2, 1)
    assert (m.deployments, m.rollbacks) == (1, 1)


def test_an_empty_window_has_no_waits_and_no_counts() -> None:
    m = metrics([], {}, days=30)
    assert m.lead_time_approval_wait == m.lead_time_excluding_approval_wait == NONE
    assert (m.refused_changes, m.overridden_changes, m.expired_requests) == (0, 0, 0)


# Any timeline of deploys, each of a new build committed at T, released some hours after its
# commit, maybe through a request made some hours before; refusals and expiries in between.
releases = st.lists(
    st.tuples(st.integers(0, 48), st.none() | st.integers(0, 48), st.booleans()), max_size=12
)
gate_steps = st.lists(
    st.tuples(st.integers(0, 12), st.sampled_from(["refused", "expired"]), st.integers(0, 96)),
    max_size=8,
)


def timeline(plan: list[tuple[int, int | None, bool]]) -> list[Step]:
    steps: list[Step] = []
    at = T
    for n, (delay, waited, overridden) in enumerate(plan, start=1):
        at = max(at, T + delay * H)
        requested = None if waited is None else max(T, at - waited * H)
        steps.append(made(n, f"b{n}", at, requested=requested, overridden=overridden))
    return steps


def with_gates(steps: list[Step], gates: list[tuple[int, str, int]]) -> list[Step]:
    mixed = list(steps)
    for index, what, hour in sorted(gates, reverse=True):
        step = ChangeRefused if what == "refused" else RequestExpired
        mixed.insert(min(index, len(mixed)), step(at=T + hour * H))
    return mixed


def committed(plan: list[tuple[int, int | None, bool]]) -> dict[tuple[str, str], datetime | None]:
    return {("shop", f"b{n}"): T for n in range(1, len(plan) + 1)}


def counts_aside(m: DoraMetrics) -> DoraMetrics:
    return msgspec.structs.replace(m, refused_changes=0, expired_requests=0)


@settings(max_examples=150, deadline=None)
@given(releases, gate_steps)
def test_refusals_and_expiries_change_only_their_own_counts(plan: list, gates: list) -> None:  # type: ignore[type-arg]
    plain = metrics(prod(*timeline(plan)), committed(plan), days=3)
    gated = metrics(prod(*with_gates(timeline(plan), gates)), committed(plan), days=3)
    assert counts_aside(gated) == plain
    assert gated.refused_changes == sum(what == "refused" for _, what, _ in gates)
    assert gated.expired_requests == sum(what == "expired" for _, what, _ in gates)
    assert gated.overridden_changes == sum(overridden for _, _, overridden in plan)


@settings(max_examples=150, deadline=None)
@given(releases)
def test_every_lead_time_is_its_wait_plus_the_rest(plan: list) -> None:  # type: ignore[type-arg]
    steps = timeline(plan)
    m = metrics(prod(*steps), committed(plan), days=3)
    waited = [s for s in steps if isinstance(s, ReleaseMade) and s.requested_at is not None]
    assert m.lead_time_excluding_approval_wait.count == m.lead_time.count == len(steps)
    assert m.lead_time_approval_wait.count == len(waited)
    for step in steps:  # each change alone: the parts add up to the whole
        alone = metrics(prod(step), committed(plan), days=1)
        assert isinstance(step, ReleaseMade) and alone.lead_time.median_seconds is not None
        wait = alone.lead_time_approval_wait.median_seconds or 0.0
        rest = alone.lead_time_excluding_approval_wait.median_seconds
        assert rest is not None and wait >= 0 and rest >= 0
        assert wait + rest == alone.lead_time.median_seconds
