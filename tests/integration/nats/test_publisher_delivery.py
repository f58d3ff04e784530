"""Every event reaches JetStream exactly once and in order, whatever happens to NATS or to the
publisher; appends never wait for NATS."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import nats
import pytest

from ledger.bootstrap import Ledger, open_ledger
from ledger.domain import commands as c
from ledger.domain.events import Artifact
from ledger.eventstore.application import read_batch
from ledger.jetstream.publisher import Publisher
from ledger.settings import Settings

CI = c.Context(actor="ci-bot", actor_kind="ci")


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path, own_nats: Any) -> Settings:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    return Settings(data_dir=tmp_path / "ledger", database_url=url, nats_url=own_nats.url)


async def _append(ledger: Ledger, flips: range) -> int:
    result = None
    for n in flips:
        cmd = c.SetFlag(app="shop", env="prod", flag=f"f{n % 3}", enabled=n % 2 == 0)
        result = await ledger.writer.run(cmd, CI)
    assert result is not None
    return result.position


async def _setup(ledger: Ledger) -> None:
    await ledger.writer.run(c.CreateApp(app="shop"), CI)
    build = c.RecordBuild(
        app="shop",
        build_id="b1",
        commit="abc1234",
        artifact=Artifact(digest="sha256:" + "a" * 64),
        status="succeeded",
    )
    await ledger.writer.run(build, CI)
    await ledger.writer.run(c.Deploy(app="shop", env="prod", build_id="b1"), CI)


async def _published(url: str) -> list[dict[str, Any]]:
    """Every CloudEvent in stream LEDGER on ledger.events.>, in stream order."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    sub = await js.subscribe("ledger.events.>", ordered_consumer=True)
    out = []
    while True:
        try:
            msg = await sub.next_msg(timeout=1)
        except nats.errors.TimeoutError:
            break
        out.append(msgspec.json.decode(msg.data))
    await nc.close()
    return out


async def _until_published(ledger: Ledger, head: int, seconds: float = 30) -> None:
    assert ledger.publisher is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while ledger.publisher.position < head:
        assert loop.time() < deadline, f"published {ledger.publisher.position} of {head}"
        ledger.publisher.wake()
        await asyncio.sleep(0.05)


def _check_exactly_once_in_order(events: list[dict[str, Any]], head: int) -> None:
    positions = [e["ledgerposition"] for e in events]
    assert positions == sorted(set(positions)), "duplicates or out of order"
    assert positions[-1] == head
    assert len({e["id"] for e in events}) == len(events)


async def test_nats_down_never_blocks_appends_and_publishing_catches_up(
    settings: Settings, own_nats: Any
) -> None:
    ledger = await open_ledger(settings)
    try:
        await _setup(ledger)
        head = await _append(ledger, range(20))
        await _until_published(ledger, head)
        own_nats.stop()
        head = await asyncio.wait_for(_append(ledger, range(20, 50)), 30)
        assert ledger.publisher is not None and ledger.publisher.position < head
        own_nats.start()
        await _until_published(ledger, head)
    finally:
        await ledger.close()
    events = await _published(own_nats.url)
    _check_exactly_once_in_order(events, head)
    assert len(events) == 3 + 50


async def test_a_publisher_that_dies_mid_batch_resends_only_what_jetstream_drops(
    settings: Settings, own_nats: Any
) -> None:
    ledger = await open_ledger(settings, follow=False)
    try:
        await _setup(ledger)
        head = await _append(ledger, range(30))
        await ledger.views.runner.catch_up()
        crashed = Publisher(ledger.store, ledger.views, own_nats.url)
        crashed.position = await crashed.load_position()
        batch = await asyncio.to_thread(read_batch, ledger.store, 0, 500)
        await crashed.publish(batch[:20])  # acknowledged, but the position was never stored
        await crashed.close()
        survivor = Publisher(ledger.store, ledger.views, own_nats.url)
        survivor.position = await survivor.load_position()
        assert survivor.position == 0
        while await survivor.step():
            pass
        await survivor.close()
    finally:
        await ledger.close()
    events = await _published(own_nats.url)
    _check_exactly_once_in_order(events, head)
