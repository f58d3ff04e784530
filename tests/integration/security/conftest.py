"""Security and policy, in process: the real aiohttp app (``create_app``) on real SQLite files
and on a real PostgreSQL database, reached over real HTTP through aiohttp's TestClient.

Tokens are created on the app's own database with ``Tokens.create``, as `ledger token create`
does. Every test that needs storage runs on both backends. Test modules reach the helpers
through the fixtures (``ledger``, ``start``), never by importing this module.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp import ClientTimeout
from aiohttp.test_utils import TestClient

from ledger.domain.policy import SCOPES
from ledger.http.keys import TOKENS
from ledger.service.tokens import Tokens, parse_scopes
from ledger.settings import Settings

from ...answers import Answer
from ..conftest import BACKENDS, app_clients, on_backend

SHOP = "/v1/apps/shop"
ANSWER_WITHIN = ClientTimeout(total=20)  # a request the server never answers fails the test


def all_scopes_but(*left_out: str) -> str:
    return ",".join(s for s in SCOPES if s not in left_out)


def build_body(
    build_id: str, *, pipeline: bool = True, status: str = "succeeded"
) -> dict[str, Any]:
    """A build; ``pipeline`` gives it CI provenance (pipeline name and run)."""
    commit = (build_id.encode().hex() + "0a1b2c3d" * 8)[:40]
    body: dict[str, Any] = {
        "build_id": build_id,
        "commit": commit,
        "artifact": {"digest": f"sha256:{commit:0<64}"},
        "status": status,
    }
    if pipeline:
        body["pipeline"] = {"name": "main", "run_id": f"run-{build_id}"}
    return body


# --------------------------------------------------------------------------------------------
# HTTP


class Caller:
    """A client of the ledger with fixed headers: nobody, a token's bearer, an open-mode actor."""

    def __init__(
        self,
        client: TestClient,
        headers: Mapping[str, str],
        name: str = "",
        answers: list[Answer] | None = None,
    ) -> None:
        self.client = client
        self.headers = dict(headers)
        self.name = name
        self.answers = [] if answers is None else answers  # every answer this client received

    async def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        raw: bytes | AsyncIterator[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, object] | None = None,
    ) -> Answer:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        sent = self.headers | ({"Content-Type": "application/json"} if data is not None else {})
        sent |= dict(headers or {})
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        payload = io.BytesIO(data) if isinstance(data, bytes) else data  # large bodies stream
        async with self.client.request(
            method, path, data=payload, headers=sent, params=params, timeout=ANSWER_WITHIN
        ) as response:
            body_bytes = await response.read()
            answer = Answer(method, path, response.status, response.headers, body_bytes)
        self.answers.append(answer)
        return answer

    async def get(self, path: str, **query: object) -> Answer:
        return await self.request("GET", path, query=query)

    async def read(self, path: str, **query: object) -> Any:
        answer = await self.get(path, **query)
        assert answer.status == 200, answer
        return answer.json

    async def write(
        self, method: str, path: str, body: object, *, headers: Mapping[str, str] | None = None
    ) -> Any:
        """A write that must succeed: 201 with a position."""
        answer = await self.request(method, path, body, headers=headers)
        assert answer.status == 201, answer
        result = answer.json
        assert isinstance(result["position"], int) and result["position"] > 0, answer
        return result


class Ledger:
    """A ledger running in this process, its settings, and ways to call it."""

    def __init__(self, client: TestClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.answers: list[Answer] = []  # every answer any client of this ledger received
        self.anonymous = self.caller({}, "anonymous")
        self.reader = self.anonymous  # reads history and state for the assertions

    @property
    def tokens(self) -> Tokens:
        return self.client.app[TOKENS]

    @property
    def port(self) -> int:
        port = self.client.port
        assert port is not None
        return port

    def bearer(self, token: str, name: str = "") -> Caller:
        return self.caller({"Authorization": f"Bearer {token}"}, name)

    def actor(self, name: str, kind: str | None = None) -> Caller:
        """An open-mode client that names its actor (and kind) in headers."""
        headers = {"X-Ledger-Actor": name} | ({"X-Ledger-Actor-Kind": kind} if kind else {})
        return self.caller(headers, name)

    async def principal(self, name: str, kind: str, scopes: str) -> Caller:
        """A new token for the principal, and a client that sends it."""
        token = await self.tokens.create(name, kind, parse_scopes(scopes))
        return self.bearer(token, name)

    async def secure(self) -> Caller:
        """Leave open mode: an admin (``root``, system) and a reader (``auditor``)."""
        root = await self.principal("root", "system", "admin")
        self.reader = await self.principal("auditor", "system", "read")
        return root

    async def head(self) -> int:
        """The global position of the newest stored event (from /readyz, which is public)."""
        ready = await self.anonymous.read("/readyz")
        head: int = ready["head"]
        return head

    async def history(self, **query: object) -> list[dict[str, Any]]:
        """History items, read after the views caught up with every stored event."""
        query.setdefault("min_position", await self.head() or None)
        page = await self.reader.read("/v1/history", **query)
        items: list[dict[str, Any]] = page["items"]
        return items

    async def denials(self) -> list[dict[str, Any]]:
        return await self.history(kind="denied", limit=500)

    async def assert_nothing_appended(self, since: int) -> None:
        """No event was stored after position ``since``: the log's head and the history agree."""
        assert await self.head() == since
        assert await self.history(after=since) == []
        verify = await self.reader.get("/v1/verify")
        if verify.status != 404:  # hash-chain verification, where the route exists
            assert verify.status == 200, verify
            assert verify.json.get("ok", True) is True, verify

    async def seed(self, admin: Caller) -> None:
        """shop with builds ``b-ci`` and ``b-two`` (CI provenance: recorded by the CI
        principal ``pipeline``), ``b-manual`` (none), ``b-claimed`` (names a pipeline but was
        recorded by an admin) and ``b-failed``; ``b-ci`` runs in staging."""
        await admin.write("POST", "/v1/apps", {"name": "shop"})
        secured = "Authorization" in admin.headers  # open mode: no tokens, no provenance rule
        pipeline = await self.principal("pipeline", "ci", "build:write") if secured else admin
        for bid in ("b-ci", "b-two"):
            await pipeline.write("POST", f"{SHOP}/builds", build_body(bid))
        await admin.write("POST", f"{SHOP}/builds", build_body("b-manual", pipeline=False))
        await admin.write("POST", f"{SHOP}/builds", build_body("b-claimed"))
        await pipeline.write("POST", f"{SHOP}/builds", build_body("b-failed", status="failed"))
        await admin.write("POST", f"{SHOP}/envs/staging/deploys", {"build_id": "b-ci"})

    build_body = staticmethod(build_body)
    all_scopes_but = staticmethod(all_scopes_but)

    async def seeded(self) -> Caller:
        """Tokens required (``root`` admin, ``auditor`` reader) and the seed; returns root."""
        root = await self.secure()
        await self.seed(root)
        return root

    async def assert_denied(
        self, caller: Caller, request: tuple[str, str, dict[str, Any]], *fragments: str
    ) -> None:
        """403 naming the fragments, recorded as exactly one ``denied`` item naming the actor."""
        head = await self.head()
        answer = await caller.request(*request)
        detail = answer.problem(403)["detail"]
        for fragment in fragments:
            assert fragment in detail, answer
        assert await self.head() == head + 1, "a refusal appends exactly its denied event"
        [denial] = await self.history(after=head)
        assert (denial["kind"], denial["actor"]) == ("denied", caller.name), denial
        assert denial in await self.denials()

    async def actor_of(self, position: int) -> tuple[str, str]:
        """The actor and actor kind the history names for the event at ``position``."""
        [item] = [i for i in await self.history(limit=500) if i["position"] == position]
        return item["actor"], item["actor_kind"]

    def caller(self, headers: Mapping[str, str], name: str = "") -> Caller:
        return Caller(self.client, headers, name, self.answers)

    async def raw_http(self, request: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
        return await raw_http(self.port, request, timeout)


async def raw_http(port: int, request: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
    """Send bytes as they are (no client-side URL normalisation); the status line and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body


# --------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(params=BACKENDS)
def base_settings(request: pytest.FixtureRequest, data_dir: Path) -> Settings:
    """Settings of the backend; writes are not rate limited unless a test says so."""
    return on_backend(request, Settings(data_dir=data_dir, human_writes_per_minute=0))


StartLedger = Callable[..., Awaitable[Ledger]]


@pytest.fixture
async def start(base_settings: Settings) -> AsyncIterator[StartLedger]:
    """Start an in-process ledger with the backend's settings changed as given."""
    async with app_clients() as start_client:

        async def start_ledger(**changes: Any) -> Ledger:
            settings = msgspec.structs.replace(base_settings, **changes)
            return Ledger(await start_client(settings), settings)

        yield start_ledger


@pytest.fixture
async def ledger(start: StartLedger) -> Ledger:
    """A ledger with the default policy (protected: prod, production), in open mode."""
    return await start()
