"""Change visibility, in process: the real aiohttp app (``create_app``) on real SQLite files
and a real PostgreSQL database, reached over real HTTP; SSE read as a browser reads it, and
webhooks POSTed to a real local aiohttp receiver."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ledger.http.keys import LEDGER
from ledger.http.server import create_app
from ledger.settings import Settings
from ledger.webhooks.deliverer import Deliverer

from ..conftest import BACKENDS, on_backend

CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
SHOP = "/v1/apps/shop"


class Sse:
    """One open GET /v1/feed, read event by event (comments kept, as ``:`` fields)."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self, timeout: float = 10.0) -> dict[str, str]:
        """The next event or comment block; {} when the server ended the stream."""
        fields: dict[str, str] = {}
        while True:
            line = await asyncio.wait_for(self.response.content.readline(), timeout)
            if not line:
                return fields
            text = line.decode().rstrip("\n")
            if not text:
                if fields:
                    return fields
                continue
            name, _, value = text.partition(":")
            fields[name] = value.removeprefix(" ")

    async def changes(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The next ``count`` change events' history items (skipping comments and retry)."""
        items: list[dict[str, Any]] = []
        while len(items) < count:
            block = await self.next(timeout)
            assert block, f"the stream ended after {len(items)} of {count} changes"
            if block.get("event") == "change":
                item = json.loads(block["data"])
                assert block["id"] == str(item["position"])
                items.append(item)
        return items

    def close(self) -> None:
        self.response.close()


class Ledger:
    """A ledger served by this process on a free port, and a client session for it."""

    def __init__(self, server: TestServer, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.session = session
        self.build_body = build

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    @property
    def deliverer(self) -> Deliverer:
        deliverer = self.server.app[LEDGER].deliverer
        assert deliverer is not None
        return deliverer

    async def request(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        async with self.session.request(
            method, self.url + path, json=body, headers=headers or CI
        ) as response:
            text = await response.text()
            return response.status, json.loads(text) if text else None

    async def write(self, method: str, path: str, body: object, **headers: str) -> int:
        status, answer = await self.request(method, path, body, headers or CI)
        assert status == 201, answer
        position: int = answer["position"]
        return position

    async def flag(self, flag: str, enabled: bool, env: str = "prod", app: str = "shop") -> int:
        path = f"/v1/apps/{app}/envs/{env}/flags/{flag}"
        return await self.write("PUT", path, {"enabled": enabled})

    async def create_app(self, name: str = "shop") -> int:
        return await self.write("POST", "/v1/apps", {"name": name})

    async def seed(self) -> list[int]:
        """App shop with build b1 running in staging; the positions of these three changes."""
        return [
            await self.create_app(),
            await self.write("POST", f"{SHOP}/builds", build("b1")),
            await self.write("POST", f"{SHOP}/envs/staging/deploys", {"build_id": "b1"}),
        ]

    async def feed(self, query: str = "", **headers: str) -> Sse:
        response = await self.session.get(f"{self.url}/v1/feed{query}", headers=headers)
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        return Sse(response)


def build(build_id: str) -> dict[str, Any]:
    commit = (build_id.encode().hex() + "a1b2c3d4" * 8)[:40]
    return {
        "build_id": build_id,
        "commit": commit,
        "artifact": {"digest": f"sha256:{commit:0<64}"},
        "status": "succeeded",
        "pipeline": {"name": "main", "run_id": f"run-{build_id}"},
    }


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, data_dir: Path) -> Settings:
    settings = Settings(data_dir=data_dir, human_writes_per_minute=0, feed_keepalive_seconds=0.3)
    return on_backend(request, settings)


StartLedger = Callable[..., Awaitable[Ledger]]


@pytest.fixture
async def start(settings: Settings) -> AsyncIterator[StartLedger]:
    """Start in-process ledgers with the backend's settings changed as given."""
    started: list[Ledger] = []
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def start_ledger(**changes: Any) -> Ledger:
        server = TestServer(create_app(msgspec.structs.replace(settings, **changes)))
        await server.start_server()
        ledger = Ledger(server, session)
        started.append(ledger)
        return ledger

    yield start_ledger
    await session.close()
    for ledger in reversed(started):
        await ledger.server.close()


@pytest.fixture
async def ledger(start: StartLedger) -> Ledger:
    return await start()


# --------------------------------------------------------------------------------------------
# A webhook receiver


class Receiver:
    """A local HTTP endpoint that records what it receives and answers as it is told."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.attempts = 0
        self.answers: list[int | float] = []  # statuses to answer next; a float: hang, then 503
        self.arrived = asyncio.Condition()
        self.server: TestServer | None = None
        self.port: int | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.attempts += 1
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, float):  # hang past the sender's timeout, then fail
            await asyncio.sleep(answer)
            answer = 503
        if 200 <= answer < 300:
            async with self.arrived:
                self.received.append((dict(request.headers), body))
                self.arrived.notify_all()
        return web.Response(status=answer)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/hook"))

    async def start(self, port: int | None = None) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.server = TestServer(app, port=port) if port else TestServer(app)
        await self.server.start_server()
        self.port = self.server.port

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def restart(self) -> None:
        """Start again on the same port (after stop)."""
        await self.start(self.port)

    async def until(self, count: int, timeout: float = 20.0) -> list[tuple[dict[str, str], bytes]]:
        """Wait until ``count`` deliveries arrived."""
        async with self.arrived:
            await asyncio.wait_for(
                self.arrived.wait_for(lambda: len(self.received) >= count), timeout
            )
        return self.received


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.stop()
