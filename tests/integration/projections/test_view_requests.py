"""The change requests' view: each request reads from it as from its own stream, the list is
newest first and filtered as asked, a pending request past its expiry reads as expired, no
secret of a requested config change enters it, and a rebuild gives the same view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from ledger.domain import commands as c
from ledger.domain.errors import Conflict
from ledger.eventstore.application import LedgerStore
from ledger.eventstore.policies import change_request
from ledger.wire.gates import RequestView, request_view
from projections import Views
from projections.request_queries import RequestQuery

from .change_requests import approve, ask_two_approvals, deploy_request, two_eyes
from .conftest import ALICE, BOB, Ledger

CAROL = c.Context(actor="carol", actor_kind="human")


async def every_status(ledger: Ledger) -> dict[str, str]:
    """Requests that ended every way there is, and one still pending: status -> request id."""
    await two_eyes(ledger)
    released, failed = await deploy_request(ledger, "b1"), await deploy_request(ledger, "b2")
    rejected, pending = await deploy_request(ledger, "b2"), await deploy_request(ledger, "b1")
    for ctx in (ALICE, BOB):
        await ledger.do(approve(released), ctx)
    await ledger.do(approve(failed), ALICE)
    with pytest.raises(Conflict, match="superseded"):  # by the release just made; recorded
        await ledger.do(approve(failed), BOB)
    reject = c.RejectRequest(app="shop", env="staging", request_id=rejected, reason="not today")
    await ledger.do(reject, CAROL)
    await ledger.do(approve(pending), CAROL)
    return {"released": released, "failed": failed, "rejected": rejected, "pending": pending}


def from_stream(store: LedgerStore, request_id: str, now: datetime) -> RequestView:
    """The request as ``GET /v1/requests/{id}`` shows it: read from its stream."""
    state = change_request(store, request_id)
    assert state is not None
    return request_view(state, now)


def plain(view: RequestView) -> object:
    return msgspec.to_builtins(view)


async def test_each_request_reads_from_the_view_as_from_its_stream(ledger, store, views) -> None:
    ids = await every_status(ledger)
    await views.runner.catch_up()
    now = datetime.now(UTC)
    listed = await views.queries.requests(RequestQuery(), now)
    assert {item.status: item.id for item in listed} == ids
    for item in listed:
        assert plain(item) == plain(from_stream(store, item.id, now))
    pending = next(item for item in listed if item.id == ids["pending"])
    assert [a.actor for a in pending.approvals] == ["carol"]
    assert pending.waiting_for.approvals == 1


async def test_the_list_is_newest_first_and_filtered_as_asked(ledger, views) -> None:
    ids = await every_status(ledger)
    await two_eyes(ledger, app="api", env="prod")
    elsewhere = await deploy_request(ledger, "b1", app="api", env="prod")
    await views.runner.catch_up()

    async def listed(**filters: object) -> list[str]:
        query = msgspec.convert(filters, RequestQuery)
        return [item.id for item in await views.queries.requests(query, datetime.now(UTC))]

    made = [ids["released"], ids["failed"], ids["rejected"], ids["pending"], elsewhere]
    assert await listed() == made[::-1]
    assert await listed(limit=2) == [elsewhere, ids["pending"]]
    assert await listed(status="pending") == [elsewhere, ids["pending"]]
    assert await listed(status="pending", app="shop") == [ids["pending"]]
    assert await listed(env="prod") == [elsewhere]
    for status in ("released", "rejected", "failed"):
        assert await listed(status=status) == [ids[status]]
    assert await listed(status="expired") == []


async def test_a_pending_request_past_its_expiry_reads_as_expired(ledger, store, views) -> None:
    ids = await every_status(ledger)
    await views.runner.catch_up()
    state = change_request(store, ids["pending"])
    assert state is not None
    later = state.expires_at + timedelta(seconds=1)

    async def listed(status: str) -> list[RequestView]:
        return await views.queries.requests(RequestQuery(status=status), later)  # type: ignore[arg-type]

    assert await listed("pending") == []
    [expired] = await listed("expired")
    assert expired.id == ids["pending"] and expired.status == "expired"
    assert expired.waiting_for.approvals == 0
    assert plain(expired) == plain(from_stream(store, ids["pending"], later))
    assert [r.id for r in await listed("released")] == [ids["released"]]  # ended ones stay so


async def test_a_requested_config_change_shows_its_secrets_as_fingerprints(
    ledger, views: Views, view_tables_of
) -> None:
    await ledger.do(c.CreateApp(app="shop"), ALICE)
    licence = c.ChangeConfig(app="shop", env="staging", set={"LICENSE": "a"}, secret=["LICENSE"])
    await ledger.do(licence)
    await ask_two_approvals(ledger)
    values = {"DB_PASSWORD": "hunter2-secret", "LICENSE": "lic-2", "A": "1"}
    result = await ledger.do(c.ChangeConfig(app="shop", env="staging", set=values))
    assert result.request is not None
    await views.runner.rebuild()  # a rebuild shows them the same way
    [item] = await views.queries.requests(RequestQuery(app="shop"), datetime.now(UTC))
    fingerprint = views.fingerprints.fingerprint
    shown = {
        "DB_PASSWORD": fingerprint("hunter2-secret"),
        "LICENSE": fingerprint("lic-2"),
        "A": "1",
    }
    assert item.command["set"] == shown
    for table in await view_tables_of(views.database):
        for row in await views.database.fetch(f"SELECT * FROM {table}"):
            text = " ".join(str(value) for value in row.values())
            assert "hunter2-secret" not in text and "lic-2" not in text, table


async def test_a_rebuild_gives_the_same_requests(ledger, views, dump_of) -> None:
    await every_status(ledger)
    await views.runner.catch_up()
    before = await dump_of(views.database)
    assert len(before["ledger_view_requests"]) == 4
    views.runner.batch_size = 3  # steps in other batches than their request
    await views.runner.rebuild()
    assert await dump_of(views.database) == before
