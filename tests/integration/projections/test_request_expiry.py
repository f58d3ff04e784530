"""The expiry sweep records each request the views show pending past its expiry as expired,
once, as the ledger itself; a request decided since the views last saw it is left alone, and
the sweep goes on with the next one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ledger.domain.errors import Conflict
from ledger.domain.policy import Rules
from ledger.eventstore.application import LedgerStore
from ledger.eventstore.policies import change_request
from ledger.service.expiry import RequestExpiry
from ledger.service.writer import Writer
from projections import HistoryQuery, Views
from projections.request_queries import RequestQuery

from .change_requests import approve, deploy_request, two_eyes
from .conftest import ALICE, Ledger

INSTANT_TTL = 0.001
"""Seconds a request waits for approvals here: it is overdue at once."""


@pytest.fixture
def hasty(store: LedgerStore) -> Iterator[Ledger]:
    """Commands through a writer whose change requests expire at once."""
    writer = Writer(store, rules=Rules(request_ttl_seconds=INSTANT_TTL))
    yield Ledger(writer)
    writer.close()


def status_in_store(store: LedgerStore, request_id: str) -> str:
    state = change_request(store, request_id)
    assert state is not None
    return state.status


async def test_an_overdue_request_is_recorded_as_expired_once(hasty, store, views: Views) -> None:
    await two_eyes(hasty)
    request_id = await deploy_request(hasty, "b1")
    await views.runner.catch_up()
    sweep = RequestExpiry(views.queries, hasty.writer)
    assert await sweep.sweep() == 1
    assert status_in_store(store, request_id) == "expired"
    await views.runner.catch_up()
    [item] = (await views.queries.history(HistoryQuery(kind="request", limit=1))).items
    assert (item.actor, item.actor_kind, item.data["request_id"]) == (
        "ledger",
        "system",
        request_id,
    )
    assert "expired unapproved" in item.summary
    [listed] = await views.queries.requests(RequestQuery(status="expired"), datetime.now(UTC))
    assert listed.id == request_id and listed.ended_by == "ledger"
    assert await sweep.sweep() == 0  # recorded: nothing left to expire


async def test_a_request_decided_since_the_views_saw_it_does_not_stop_the_sweep(
    hasty, store, views: Views
) -> None:
    await two_eyes(hasty)
    decided, overdue = await deploy_request(hasty, "b1"), await deploy_request(hasty, "b2")
    await views.runner.catch_up()  # the views show both pending past their expiry
    with pytest.raises(Conflict, match="expired"):  # too late: its expiry is recorded
        await hasty.do(approve(decided), ALICE)
    assert await RequestExpiry(views.queries, hasty.writer).sweep() == 1
    assert status_in_store(store, overdue) == "expired"
    await views.runner.catch_up()
    expired = await views.queries.history(HistoryQuery(kind="request", limit=10))
    assert sorted(i.data["request_id"] for i in expired.items if "expired" in i.summary) == sorted(
        [decided, overdue]
    )
