"""GET …/dora with the gates: prod needs an approval, staging has a freeze window; the lead
time splits into the wait for approval and the rest, and refusals, overrides and expired
requests are counted (README: "DORA metrics")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ledger.domain import commands as c
from ledger.domain.policy_document import Approvals, PolicyDocument
from ledger.domain.windows import FreezeWindow

from .conftest import ALICE, T0, Story, hours

DAY = timedelta(days=1)
UNTIL = (T0 + 10 * DAY).isoformat()
BOB = c.Context(actor="bob", actor_kind="human", via="http")
SWEEP = c.Context(actor="ledger", actor_kind="system", via="http")


def deploy(env: str, bid: str, **kw: Any) -> c.Deploy:
    return c.Deploy(app="shop", env=env, build_id=bid, **kw)


def requested(story: Story, when: Any, cmd: c.Deploy) -> str:
    decided, _ = story.decide(when, cmd)
    assert decided.refusal is None and decided.result.request is not None
    return str(decided.result.request.id)


def approve(story: Story, when: Any, env: str, request_id: str) -> None:
    story.at(when, c.ApproveRequest(app="shop", env=env, request_id=request_id), BOB)


@pytest.fixture
def gated(story: Story) -> Story:
    s = story
    s.at(T0 - DAY, c.CreateApp(app="shop"), ALICE)
    for n in (1, 2, 3):
        s.build(T0 - DAY, f"b{n}", committed_at=T0 + (n - 1) * DAY)
    one_approval = PolicyDocument(approvals=Approvals(required=1))
    s.at(T0 - DAY, c.SetPolicy(app="shop", env="prod", reason="4 eyes", policy=one_approval), ALICE)
    launch = FreezeWindow(name="launch", start=T0 + 3 * DAY, end=T0 + 4 * DAY)
    frozen = PolicyDocument(freeze=[launch])
    s.at(T0 - DAY, c.SetPolicy(app="shop", env="staging", reason="launch", policy=frozen), ALICE)

    first = requested(s, T0 + hours(1), deploy("prod", "b1"))
    approve(s, T0 + hours(4), "prod", first)  # v1: lead 4h, of which 3h waiting
    second = requested(s, T0 + DAY + hours(2), deploy("prod", "b2"))
    approve(s, T0 + DAY + hours(3), "prod", second)  # v2: lead 3h, of which 1h waiting
    never = requested(s, T0 + 2 * DAY + hours(1), deploy("prod", "b3"))
    sweep = c.ExpireRequest(app="shop", env="prod", request_id=never)
    s.at(T0 + 3 * DAY + hours(2), sweep, SWEEP)  # past its 24 hours

    refused, _ = s.decide(T0 + 3 * DAY + hours(1), deploy("staging", "b3"))
    assert refused.refusal is not None and refused.refusal.gate == "freeze"
    forced = deploy("staging", "b3", force=True, reason="launch fix")
    s.at(T0 + 3 * DAY + hours(2), forced, ALICE)  # v1 of staging: lead 26h, no wait
    return s


async def test_lead_time_splits_into_the_wait_for_approval_and_the_rest(
    read: Any, gated: Story
) -> None:
    reader = await read()
    prod = (await reader.ok("/v1/apps/shop/envs/prod/dora", days=10, until=UNTIL))["metrics"]
    assert prod["deployments"] == 2
    assert prod["lead_time"] == {"count": 2, "median_seconds": 12600.0, "p90_seconds": 14400.0}
    # 3h and 1h from request to release; 1h and 2h the rest
    assert prod["lead_time_approval_wait"] == {
        "count": 2, "median_seconds": 7200.0, "p90_seconds": 10800.0,
    }  # fmt: skip
    assert prod["lead_time_excluding_approval_wait"] == {
        "count": 2, "median_seconds": 5400.0, "p90_seconds": 7200.0,
    }  # fmt: skip
    counts = ("refused_changes", "overridden_changes", "expired_requests")
    assert [prod[name] for name in counts] == [0, 0, 1]


async def test_refusals_and_overrides_per_environment_and_pooled(read: Any, gated: Story) -> None:
    reader = await read()
    counts = ("refused_changes", "overridden_changes", "expired_requests")
    staging = await reader.ok("/v1/apps/shop/envs/staging/dora", days=10, until=UNTIL)
    assert [staging["metrics"][name] for name in counts] == [1, 1, 0]
    assert staging["metrics"]["lead_time_approval_wait"]["count"] == 0
    assert staging["metrics"]["lead_time_excluding_approval_wait"] == {
        "count": 1, "median_seconds": 93600.0, "p90_seconds": 93600.0,
    }  # fmt: skip
    pooled = await reader.ok("/v1/dora", app="shop", days=10, until=UNTIL)
    assert [pooled["metrics"][name] for name in counts] == [1, 1, 1]
    assert pooled["metrics"]["lead_time_approval_wait"]["count"] == 2
    assert [
        (e["env"], [e["metrics"][name] for name in counts]) for e in pooled["environments"]
    ] == [
        ("prod", [0, 0, 1]),
        ("staging", [1, 1, 0]),
    ]
    # the expiry falls outside a window that ends before it
    early = await reader.ok("/v1/dora", app="shop", days=3, until=(T0 + 3 * DAY).isoformat())
    assert [early["metrics"][name] for name in counts] == [0, 0, 0]
