"""One event NATS cannot take never stops the publisher: it is recorded as the publisher's
failure and passed over, every other event is published once and in order; NATS being away
is still waited out (see test_publisher_delivery)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ledger.bootstrap import open_ledger
from ledger.cli.main import cli as ledger_cli
from ledger.domain import commands as c
from ledger.settings import Settings
from projections.failures import failures

from ...servers import NatsServer
from ..old_events import storing_old_text
from .test_publisher_delivery import (
    CI,
    _append,
    _check_exactly_once_in_order,
    _published,
    _until_published,
)

pytestmark = pytest.mark.nats
MAX_PAYLOAD = 16_384
TOO_LONG = "x" * (2 * MAX_PAYLOAD)


@pytest.fixture
def small_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A NATS server that takes messages of at most MAX_PAYLOAD bytes."""
    server = NatsServer(tmp_path / "nats", max_payload=MAX_PAYLOAD)
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path, small_nats: Any) -> Settings:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    return Settings(data_dir=tmp_path / "ledger", database_url=url, nats_url=small_nats.url)


async def test_an_event_nats_refuses_is_recorded_and_the_others_are_published(
    settings: Settings, small_nats: Any
) -> None:
    ledger = await open_ledger(settings)
    try:
        await ledger.writer.run(c.CreateApp(app="shop"), CI)
        with storing_old_text(ledger.store, description=TOO_LONG):
            refused = (await ledger.writer.run(c.CreateApp(app="big"), CI)).position
        head = await _append(ledger, range(5))
        await _until_published(ledger, head)
        [failure] = await failures(ledger.views.database, "nats-publisher")
        assert ledger.publisher is not None and ledger.publisher.failed == 1
    finally:
        await ledger.close()
    assert failure.position == refused and "max_payload" in failure.error
    events = await _published(small_nats.url)
    _check_exactly_once_in_order(events, head)
    assert refused not in [e["ledgerposition"] for e in events] and len(events) == 1 + 5

    small_nats.stop()  # the fix: NATS takes larger messages
    small_nats.max_payload = None
    small_nats.start()
    retried = await asyncio.to_thread(retry_cli, settings)
    assert retried.exit_code == 0, retried.output
    assert f"{refused}\tnats-publisher\tsent again" in retried.stdout
    republished = [e["ledgerposition"] for e in await _published(small_nats.url)]
    assert republished[-1] == refused  # late: after the events that followed it


def retry_cli(settings: Settings) -> Result:
    env = {
        "LEDGER_DATA_DIR": str(settings.data_dir),
        "LEDGER_DATABASE_URL": settings.database_url,
        "LEDGER_NATS_URL": settings.nats_url,
    }
    return CliRunner().invoke(ledger_cli, ["projections", "retry"], env=env)
