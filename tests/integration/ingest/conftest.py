"""CDEvents ingest in process: the real aiohttp app (``create_app``) on real SQLite files or a
real PostgreSQL database, over real HTTP through aiohttp's TestClient, fed the project's
CDEvents fixtures (tests/fixtures/cdevents) in structured mode, binary mode or alone.

Test modules reach the helpers through the fixtures (``start``, ``ledger``, ``cdevent``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from ledger.http.keys import TOKENS
from ledger.service.tokens import parse_scopes
from ledger.settings import Settings

from ... import cdevents
from ..conftest import app_clients

Event = dict[str, Any]


class Answer:
    """One HTTP answer: status, headers, and the JSON body."""

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.json: Any = json.loads(body) if body else None

    def __repr__(self) -> str:
        return f"{self.status} {self.json!r}"

    def problem(self, status: int) -> dict[str, Any]:
        """Assert an RFC 9457 problem with this status; returns it."""
        assert self.status == status, self
        assert self.headers["content-type"].startswith("application/problem+json"), self
        assert {"type", "title", "status", "detail"} <= set(self.json), self
        problem: dict[str, Any] = self.json
        return problem


class Ledger:
    """A ledger running in this process and a client of it that speaks CDEvents."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client
        self.headers: dict[str, str] = {}

    async def send(
        self, event: Event, mode: str = "plain", headers: Mapping[str, str] | None = None
    ) -> Answer:
        """POST /v1/cdevents with the event in the given mode."""
        sent, body = cdevents.wrap(event, mode)
        return await self.post("/v1/cdevents", body, sent | dict(headers or {}))

    async def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        async with self.client.post(path, data=body, headers=self.headers | dict(headers)) as r:
            return Answer(r.status, r.headers, await r.read())

    async def write(self, path: str, body: Event) -> Any:
        """A plain API write that must succeed."""
        answer = await self.post(path, json.dumps(body).encode(), {"X-Ledger-Actor-Kind": "ci"})
        assert answer.status == 201, answer
        return answer.json

    async def read(self, path: str, **query: object) -> Any:
        params = {k: str(v) for k, v in query.items()}
        async with self.client.get(path, params=params, headers=self.headers) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def head(self) -> int:
        head: int = (await self.read("/readyz"))["head"]
        return head

    async def history(self, **query: object) -> list[dict[str, Any]]:
        """History items, newest first, once the views include every stored event."""
        page = await self.read("/v1/history", min_position=await self.head(), **query)
        items: list[dict[str, Any]] = page["items"]
        return items

    async def releases(self, app: str, env: str) -> list[dict[str, Any]]:
        """The releases of an environment, oldest first."""
        path = f"/v1/apps/{app}/envs/{env}/releases"
        page = await self.read(path, min_position=await self.head())
        return list(reversed(page["releases"]))

    async def bearer(self, name: str, kind: str, scopes: str) -> str:
        """A new token (as `ledger token create` makes one); the ledger leaves open mode."""
        token: str = await self.client.app[TOKENS].create(name, kind, parse_scopes(scopes))
        return token


StartLedger = Callable[..., Awaitable[Ledger]]


@pytest.fixture
async def start(data_dir: Path) -> AsyncIterator[StartLedger]:
    """Start an in-process ledger on SQLite (or on the PostgreSQL database given)."""
    async with app_clients() as start_client:

        async def start_ledger(database_url: str | None = None) -> Ledger:
            settings = Settings(data_dir=data_dir, database_url=database_url)
            return Ledger(await start_client(settings))

        yield start_ledger


@pytest.fixture
async def ledger(start: StartLedger) -> Ledger:
    """A ledger on SQLite in open mode."""
    return await start()


@pytest.fixture
def cdevent() -> Callable[[str], Event]:
    """A fresh copy of one of the project's CDEvents fixtures, by name."""
    return cdevents.fixture
