"""A CDEvent sent over NATS with a character no store can keep (NUL, a lone surrogate) in a
field the ledger takes is answered 422 naming the field, as over HTTP, and nothing is appended."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.client import Client

from ledger.bootstrap import Ledger, open_ledger
from ledger.ingest.nats import SUBJECT
from ledger.settings import Settings

Event = dict[str, Any]
FIELD = "subject.content.environment.id"


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


def message(event: Event, mode: str) -> tuple[bytes, dict[str, str] | None]:
    context = event["context"]
    if mode == "binary":
        headers = {f"ce-{k}": context[k] for k in ("id", "source", "type")}
        return json.dumps(event).encode(), headers | {"ce-specversion": "1.0"}
    if mode == "structured":
        envelope = {"specversion": "1.0", **{k: context[k] for k in ("id", "source", "type")}}
        return json.dumps(envelope | {"data": event}).encode(), None
    return json.dumps(event).encode(), None


@pytest.mark.nats
@pytest.mark.parametrize("mode", ["plain", "binary", "structured"])
@pytest.mark.parametrize("bad", ["\x00", "\ud800", "\udfff"], ids=["nul", "high", "low"])
async def test_an_unstorable_environment_id_is_422_naming_it(
    mode: str, bad: str, ledger: Ledger, nc: Client, cdevent: Callable[[str], Event]
) -> None:
    event = cdevent("service_deployed")
    event["subject"]["content"]["environment"]["id"] = f"staging{bad}"
    body, headers = message(event, mode)
    reply = await nc.request(SUBJECT, body, timeout=10, headers=headers)
    problem = json.loads(reply.data)
    assert (reply.headers or {}).get("Ledger-Status") == "422", problem
    assert [e["field"].removeprefix("data.") for e in problem["errors"]] == [FIELD], problem
    assert await asyncio.to_thread(ledger.store.head) == 0
