"""Fixtures of the integration tests that run on each backend: settings on SQLite files and on a
fresh PostgreSQL database, the event store and the writer on them, and in-process ledgers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient, TestServer

from ledger.eventstore.application import LedgerStore
from ledger.http.server import create_app
from ledger.service.writer import Writer
from ledger.settings import Settings

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def on_backend(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The settings on the backend the test is parametrised with (``BACKENDS``): as given for
    SQLite, on a fresh database (``postgres_url``) for PostgreSQL."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return msgspec.structs.replace(settings, database_url=url)
    return settings


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, data_dir: Path) -> Settings:
    return on_backend(request, Settings(data_dir=data_dir))


@pytest.fixture
def store(settings: Settings) -> Iterator[LedgerStore]:
    store = LedgerStore(settings)
    yield store
    store.close()


@pytest.fixture
def writer(store: LedgerStore) -> Iterator[Writer]:
    writer = Writer(store)
    yield writer
    writer.close()


StartClient = Callable[[Settings], Awaitable[TestClient[Any, Any]]]


@asynccontextmanager
async def app_clients() -> AsyncIterator[StartClient]:
    """Start the real app (``create_app``) in this process on the settings given, behind a
    TestClient; every one started is closed at the end, the newest first."""
    clients: list[TestClient[Any, Any]] = []

    async def start_client(settings: Settings) -> TestClient[Any, Any]:
        client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings)))
        await client.start_server()
        clients.append(client)
        return client

    try:
        yield start_client
    finally:
        for client in reversed(clients):
            await client.close()
