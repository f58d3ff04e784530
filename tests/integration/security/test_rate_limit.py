"""Write rate limits per principal: a human's quick writes beyond the burst get 429 with
Retry-After, and append nothing; CI is not limited by default; reads are never limited."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

Ledger = Any
StartLedger = Any
FLAG = "/v1/apps/shop/envs/staging/flags/beta"


@pytest.fixture
async def limited(start: StartLedger) -> Ledger:
    """60 human writes a minute with a burst of 3; the app ``shop`` exists."""
    ledger = await start(human_writes_per_minute=60, write_burst=3)
    root = await ledger.secure()
    await root.write("POST", "/v1/apps", {"name": "shop"})
    return ledger


async def flips(caller: Any, count: int) -> list[Any]:
    return [await caller.request("PUT", FLAG, {"enabled": n % 2 == 0}) for n in range(count)]


async def test_the_fourth_quick_write_of_a_human_is_429_with_retry_after(limited: Ledger) -> None:
    alice = await limited.principal("alice", "human", "flag:write,read")
    first = await flips(alice, 3)
    assert [a.status for a in first] == [201, 201, 201], first
    head = await limited.head()

    fourth = (await flips(alice, 1))[0]

    fourth.problem(429)
    assert 1 <= int(fourth.headers["retry-after"]) <= 60, fourth
    await limited.assert_nothing_appended(head)
    assert (await alice.get("/v1/apps")).status == 200  # reads are not limited


async def test_after_retry_after_the_human_may_write_again(limited: Ledger) -> None:
    alice = await limited.principal("alice", "human", "flag:write")
    await flips(alice, 3)
    refused = (await flips(alice, 1))[0]
    assert refused.status == 429, refused
    await asyncio.sleep(int(refused.headers["retry-after"]))
    assert (await flips(alice, 1))[0].status == 201


async def test_each_principal_has_its_own_limit(limited: Ledger) -> None:
    alice = await limited.principal("alice", "human", "flag:write")
    bob = await limited.principal("bob", "human", "flag:write")
    await flips(alice, 4)
    assert [a.status for a in await flips(bob, 3)] == [201, 201, 201]


async def test_ci_is_not_limited_by_default(limited: Ledger) -> None:
    ci = await limited.principal("ci-bot", "ci", "flag:write")
    answers = await flips(ci, 12)
    assert {a.status for a in answers} == {201}, answers


async def test_refused_writes_count_against_the_limit(limited: Ledger) -> None:
    """A principal cannot probe the policy faster than it may write."""
    mallory = await limited.principal("mallory", "human", "read")
    statuses = [a.status for a in await flips(mallory, 4)]
    assert statuses == [403, 403, 403, 429]


async def test_a_batch_counts_each_of_its_commands_against_the_limit(limited: Ledger) -> None:
    """Ten flips in one request are ten writes: a batch is no way around the limit."""
    alice = await limited.principal("alice", "human", "flag:write")
    items = [
        {"op": "set_flag", "app": "shop", "env": "staging", "flag": "beta", "enabled": n % 2 == 0}
        for n in range(10)
    ]
    answer = await alice.request("POST", "/v1/events:batch", items)
    if answer.status == 429:
        return
    assert answer.status == 200, answer
    assert answer.json["accepted"] <= 3, answer
