"""CDEvents over NATS request-reply (``ledger.ingest.cdevents``, queue group ``ledger-ingest``):
the same mapping and write path as HTTP, answered with the write result or a problem."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.client import Client

from ledger.bootstrap import Ledger, open_ledger
from ledger.domain.model import Environment
from ledger.domain.names import environment_id
from ledger.eventstore.application import read_batch
from ledger.ingest.nats import SUBJECT
from ledger.settings import Settings
from projections.queries import HistoryQuery, Queries

from ... import cdevents
from ...cdevents import ACCEPTED, UNMAPPED

D1 = "1f04c1cf8c648ef4a03c3da4077550b138fe05e0b2bd15a9b610730e57734fca"
D2 = "867d848fca6fc5b214b1a7d033720452b95b422764aecf313e828e19ca45ed2a"
Event = dict[str, Any]


@pytest.fixture
async def ledger(data_dir: Path, nats_url: str) -> AsyncIterator[Ledger]:
    ledger = await open_ledger(Settings(data_dir=data_dir, nats_url=nats_url))
    assert ledger.responder is not None
    await asyncio.wait_for(ledger.responder.subscribed.wait(), 10)
    yield ledger
    await ledger.close()


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url, connect_timeout=5, allow_reconnect=False)
    yield client
    await client.close()


async def request(nc: Client, event: Event, mode: str) -> tuple[dict[str, str], Any]:
    """Send the CDEvent as a request in ``mode``; the reply's headers and JSON body."""
    context = event["context"]
    headers = None
    body: Event = event
    if mode == "binary":
        headers = {f"ce-{k}": context[k] for k in ("id", "source", "type")}
        headers |= {"ce-specversion": "1.0", "content-type": "application/json"}
    elif mode == "structured":
        body = {"specversion": "1.0", **{k: context[k] for k in ("id", "source", "type")}}
        body |= {"datacontenttype": "application/json", "data": event}
    reply = await nc.request(SUBJECT, json.dumps(body).encode(), timeout=10, headers=headers)
    return dict(reply.headers or {}), json.loads(reply.data)


@pytest.mark.nats
async def test_a_deploy_sent_over_nats_is_recorded_and_answered(
    ledger: Ledger, nc: Client, cdevent: Callable[[str], Event]
) -> None:
    headers, result = await request(nc, cdevent("service_deployed"), "binary")
    assert headers["Ledger-Status"] == "201", result
    assert (result["command"], result["app"], result["env"]) == ("Deploy", "checkout", "staging")
    assert (result["release"]["version"], result["release"]["build_id"]) == (1, D1[:12])

    headers, result = await request(nc, cdevent("service_upgraded"), "structured")
    assert headers["Ledger-Status"] == "201", result
    assert result["release"]["build_id"] == D2[:12]

    env = await asyncio.to_thread(ledger.store.load, environment_id("checkout", "staging"))
    assert isinstance(env, Environment)
    assert [(r.version, r.build_id) for r in env.releases] == [(1, D1[:12]), (2, D2[:12])]
    assert await ledger.views.wait_for(result["position"], 10)
    page = await Queries(ledger.views.database).history(HistoryQuery(app="checkout", kind="deploy"))
    assert [(i.via, i.actor) for i in page.items] == [
        ("cdevents", "/argocd/acme/checkout-staging")
    ] * 2


@pytest.mark.nats
async def test_a_redelivered_request_gets_the_first_answer(
    ledger: Ledger, nc: Client, cdevent: Callable[[str], Event]
) -> None:
    _, first = await request(nc, cdevent("build_finished"), "plain")
    head = await asyncio.to_thread(ledger.store.head)
    headers, again = await request(nc, cdevent("build_finished"), "binary")
    assert headers["Ledger-Status"] == "201"
    assert again == first | {"replayed": True}
    assert await asyncio.to_thread(ledger.store.head) == head


@pytest.mark.nats
@pytest.mark.parametrize("mode", ["structured", "binary", "plain"])
async def test_every_conformance_example_of_a_type_not_recorded_is_acknowledged(
    mode: str, ledger: Ledger, nc: Client
) -> None:
    for name in UNMAPPED:
        event = cdevents.spec_example(name)
        headers, result = await request(nc, event, mode)
        assert headers["Ledger-Status"] == "202", (name, result)
        assert result["position"] == 0 and event["context"]["type"] in result["note"]
    assert await asyncio.to_thread(ledger.store.head) == 0


@pytest.mark.nats
@pytest.mark.parametrize("mode", ["structured", "binary", "plain"])
async def test_an_identical_redelivery_of_each_accepted_type_gets_its_first_answer(
    mode: str, ledger: Ledger, nc: Client
) -> None:
    for name in ACCEPTED:
        _, first = await request(nc, cdevents.fixture(name), mode)
        head = await asyncio.to_thread(ledger.store.head)
        _, again = await request(nc, cdevents.fixture(name), mode)
        assert {**again, "replayed": None} == {**first, "replayed": None}, name
        assert await asyncio.to_thread(ledger.store.head) == head


@pytest.mark.nats
@pytest.mark.parametrize(
    ("change", "status", "title"),
    [
        (
            lambda e: e["context"].update(type="dev.cdevents.service.deployed.1.0.0"),
            422,
            "Unsupported event type",
        ),
        (lambda e: e["context"].pop("timestamp"), 400, "Malformed event"),
    ],
    ids=["unknown-type", "malformed"],
)
async def test_what_the_ledger_cannot_take_is_answered_with_a_problem(
    change: Callable[[Event], object],
    status: int,
    title: str,
    ledger: Ledger,
    nc: Client,
    cdevent: Callable[[str], Event],
) -> None:
    event = cdevent("service_deployed")
    change(event)
    headers, problem = await request(nc, event, "plain")
    assert (headers["Ledger-Status"], headers["Content-Type"]) == (
        str(status),
        "application/problem+json",
    )
    assert (problem["status"], problem["title"]) == (status, title)
    assert {"type", "detail"} <= set(problem)
    assert await asyncio.to_thread(ledger.store.head) == 0


async def test_a_nats_server_that_is_down_holds_up_neither_start_nor_close(data_dir: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        nowhere = f"nats://127.0.0.1:{s.getsockname()[1]}"
    ledger = await asyncio.wait_for(open_ledger(Settings(data_dir=data_dir, nats_url=nowhere)), 10)
    assert ledger.responder is not None and not ledger.responder.subscribed.is_set()
    await asyncio.wait_for(ledger.close(), 10)


@pytest.mark.nats
@pytest.mark.parametrize("mode", ["plain", "binary", "structured"])
@pytest.mark.parametrize("bad", ["\x00", "\ud800", "\udfff"], ids=["nul", "high", "low"])
async def test_an_unstorable_environment_id_is_422_naming_it(
    mode: str, bad: str, ledger: Ledger, nc: Client, cdevent: Callable[[str], Event]
) -> None:
    """A character no store can keep (NUL, a lone surrogate) in a field the ledger takes is
    answered 422 naming the field, as over HTTP, and nothing is appended."""
    event = cdevent("service_deployed")
    event["subject"]["content"]["environment"]["id"] = f"staging{bad}"
    headers, problem = await request(nc, event, mode)
    assert headers.get("Ledger-Status") == "422", problem
    fields = [e["field"].removeprefix("data.") for e in problem["errors"]]
    assert fields == ["subject.content.environment.id"], problem
    assert await asyncio.to_thread(ledger.store.head) == 0


HOP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
STARTED = "00-0af7651916cd43dd8448eb211c80319c-b9c7c989f97918e1-01"


async def _recorded(ledger: Ledger, position: int) -> list[Any]:
    """Every event the log holds up to ``position``."""
    return await asyncio.to_thread(read_batch, ledger.store, 0, position)


@pytest.mark.nats
async def test_a_messages_traceparent_header_is_kept_on_all_it_records(
    ledger: Ledger, nc: Client, cdevent: Callable[[str], Event]
) -> None:
    traced = {"traceparent": HOP, "tracestate": "rojo=00f067aa0ba902b7"}
    body = json.dumps(cdevent("service_deployed")).encode()
    reply = await nc.request(SUBJECT, body, timeout=10, headers=traced)
    assert reply.headers is not None and reply.headers["Ledger-Status"] == "201", reply.data
    events = [e for _, e in await _recorded(ledger, json.loads(reply.data)["position"])]
    assert len(events) >= 3  # the app, the build, the release (and their bookkeeping)
    assert {(e.traceparent, e.tracestate) for e in events} == {(HOP, "rojo=00f067aa0ba902b7")}


@pytest.mark.nats
async def test_a_cloudevents_own_traceparent_wins_and_an_invalid_one_is_ignored(
    ledger: Ledger, nc: Client, cdevent: Callable[[str], Event]
) -> None:
    deployed = cdevent("service_deployed")
    headers = {f"ce-{k}": deployed["context"][k] for k in ("id", "source", "type")}
    headers |= {"ce-specversion": "1.0", "ce-traceparent": STARTED, "traceparent": HOP}
    reply = await nc.request(SUBJECT, json.dumps(deployed).encode(), timeout=10, headers=headers)
    first = await asyncio.to_thread(ledger.store.head)
    assert {e.traceparent for _, e in await _recorded(ledger, first)} == {STARTED}

    upgraded = cdevent("service_upgraded")
    invalid = {"traceparent": "00-" + "0" * 32 + "-00f067aa0ba902b7-01"}
    reply = await nc.request(SUBJECT, json.dumps(upgraded).encode(), timeout=10, headers=invalid)
    assert reply.headers is not None and reply.headers["Ledger-Status"] == "201", reply.data
    later = await asyncio.to_thread(read_batch, ledger.store, first, 100)
    assert later and {e.traceparent for _, e in later} == {None}
