"""The audit over HTTP, in process on both backends: checkpoints and proofs served by the real
app verify with the auditor's offline verifier, forged ones do not, and /v1/verify reports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient, TestServer

from ledger.audit.offline import verify_proof_json
from ledger.audit.signing import Signer
from ledger.http.keys import LEDGER
from ledger.http.server import create_app
from ledger.settings import Settings

from ...signed_notes import checkpoint_lines, independent_verifier_key, independently_opened
from ..conftest import app_clients

ALICE = {"X-Ledger-Actor": "alice"}


@pytest.fixture
async def client(settings: Settings, signing_key: str) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    yield client
    await client.close()


async def write(client: TestClient, path: str, body: dict[str, Any]) -> int:
    response = await client.post(path, json=body, headers=ALICE)
    assert response.status == 201, await response.text()
    position: int = (await response.json())["position"]
    return position


async def story(client: TestClient, app: str) -> int:
    """An app, a build and a deploy; returns the last position."""
    await write(client, "/v1/apps", {"name": app})
    build = {"build_id": "b1", "commit": "a1b2c3d4", "artifact": {"digest": "sha256:1"}}
    await write(client, f"/v1/apps/{app}/builds", build | {"status": "succeeded"})
    await write(client, f"/v1/apps/{app}/envs/prod/config", {"set": {"A": "1"}})
    return await write(client, f"/v1/apps/{app}/envs/prod/deploys", {"build_id": "b1"})


async def checkpoint_now(client: TestClient, head: int) -> int:
    """Wait until the tree and the views reach ``head``, then write a checkpoint."""
    ledger = client.server.app[LEDGER]
    checkpointer = ledger.checkpointer
    assert checkpointer is not None
    for _ in range(500):
        if checkpointer.tree_size >= head and ledger.views.runner.position >= head:
            break
        await asyncio.sleep(0.02)
    written = await checkpointer.checkpoint()
    assert written is not None and written.tree_size == head
    return written.tree_size


async def get(client: TestClient, path: str, status: int = 200, **query: Any) -> Any:
    response = await client.get(path, params=query)
    assert response.status == status, await response.text()
    return await response.json()


async def test_every_inclusion_proof_served_verifies_offline(
    client: TestClient, signing_key: str
) -> None:
    public_key = Signer.from_base64(signing_key).public_key
    size = await checkpoint_now(client, await story(client, "shop"))
    latest = await get(client, "/v1/checkpoints/latest")
    assert latest["tree_size"] == size
    assert latest["public_key"] == public_key.hex()
    assert await get(client, f"/v1/checkpoints/{size}") == latest

    history = await get(client, "/v1/history", limit=100)
    assert len(history["items"]) == size - 1  # all but the index of b1's artifact (bookkeeping)
    for item in history["items"]:
        response = await client.get(f"/v1/events/{item['event_id']}/proof")
        assert response.status == 200
        document = await response.read()
        verdict = verify_proof_json(document, public_key)
        assert verdict.ok, verdict.problems
        assert json.loads(document)["position"] == item["position"]


async def test_a_forged_proof_is_rejected_offline(client: TestClient, signing_key: str) -> None:
    public_key = Signer.from_base64(signing_key).public_key
    size = await checkpoint_now(client, await story(client, "shop"))
    item = (await get(client, "/v1/history", limit=1))["items"][0]
    proof = await get(client, f"/v1/events/{item['event_id']}/proof", tree_size=size)
    assert verify_proof_json(json.dumps(proof), public_key).ok

    forged = {**proof, "event_hash": other_hash(proof["event_hash"])}
    assert not verify_proof_json(json.dumps(forged), public_key).ok
    moved = {**proof, "position": proof["position"] + 1}
    assert not verify_proof_json(json.dumps(moved), public_key).ok
    grown = {**proof, "checkpoint": {**proof["checkpoint"], "tree_size": size + 1}}
    assert not verify_proof_json(json.dumps(grown), public_key).ok


def other_hash(digits: str) -> str:
    """Another hash: the first hex digit changed."""
    return ("0" if digits[0] != "0" else "1") + digits[1:]


async def test_consistency_between_two_checkpoints_verifies_offline(
    client: TestClient, signing_key: str
) -> None:
    public_key = Signer.from_base64(signing_key).public_key
    first = await checkpoint_now(client, await story(client, "shop"))
    second = await checkpoint_now(client, await story(client, "api"))
    document = await get(client, f"/v1/checkpoints/{first}/consistency/{second}")
    assert document["type"] == "consistency"
    assert verify_proof_json(json.dumps(document), public_key).ok
    node = document["proof"][0]
    forged = {**document, "proof": [other_hash(node), *document["proof"][1:]]}
    assert not verify_proof_json(json.dumps(forged), public_key).ok
    rewritten = {**document, "first": {**document["first"], "root_hash": other_hash(node)}}
    assert not verify_proof_json(json.dumps(rewritten), public_key).ok


async def test_verify_reports_ok_and_then_the_tampering(
    client: TestClient, settings: Settings
) -> None:
    size = await checkpoint_now(client, await story(client, "shop"))
    report = await get(client, "/v1/verify")
    assert report["ok"] is True
    assert report["events"] == size
    assert report["signature"] == "valid"

    ledger = client.server.app[LEDGER]
    await ledger.views.database.execute(
        "UPDATE ledger_checkpoints SET root_hash = $1 WHERE tree_size = $2", "00" * 32, size
    )
    report = await get(client, "/v1/verify")
    assert report["ok"] is False
    assert {p["check"] for p in report["problems"]} == {"tree", "signature"}


ORIGIN = "ledger.example.com/audit"


async def test_a_checkpoint_is_its_signed_note_as_text_plain(
    settings: Settings, signing_key: str
) -> None:
    public_key = Signer.from_base64(signing_key).public_key
    vkey = independent_verifier_key(ORIGIN, public_key)
    async with app_clients() as start:
        client = await start(msgspec.structs.replace(settings, log_origin=ORIGIN))
        size = await checkpoint_now(client, await story(client, "shop"))
        response = await client.get("/v1/checkpoints/latest", headers={"Accept": "text/plain"})
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        note = await response.text()
        text = independently_opened(note, vkey)
        assert text is not None and checkpoint_lines(text)[:2] == (ORIGIN, size)

        as_json = await get(client, "/v1/checkpoints/latest")  # JSON stays the default
        assert (as_json["note"], as_json["origin"], as_json["verifier_key"]) == (note, ORIGIN, vkey)
        accept = {"Accept": "application/json;q=0.5, text/plain"}
        by_size = await client.get(f"/v1/checkpoints/{size}", headers=accept)
        assert await by_size.text() == note

        ledger = client.server.app[LEDGER]
        database = ledger.views.database
        first = await database.fetchrow("SELECT MIN(tree_size) AS size FROM ledger_checkpoints")
        assert first is not None and first["size"] < size
        await database.execute(
            "UPDATE ledger_checkpoints SET note = NULL WHERE tree_size = $1", first["size"]
        )  # as a v1 checkpoint, stored before notes, is
        v1 = await client.get(f"/v1/checkpoints/{first['size']}", headers={"Accept": "text/plain"})
        assert v1.status == 406
        assert "before checkpoints were signed notes" in (await v1.json())["detail"]


async def test_missing_things_are_404_and_bad_parameters_422(client: TestClient) -> None:
    await get(client, "/v1/checkpoints/latest", 404)
    size = await checkpoint_now(client, await story(client, "shop"))
    await get(client, f"/v1/checkpoints/{size + 5}", 404)
    await get(client, "/v1/events/00000000-0000-0000-0000-000000000000/proof", 404)
    await get(client, "/v1/checkpoints/many", 422)
    await get(client, "/v1/events/not-a-uuid/proof", 422)
    await get(client, f"/v1/checkpoints/{size}/consistency/1", 422)


async def test_the_audit_routes_are_in_the_openapi_document(client: TestClient) -> None:
    document = await get(client, "/openapi.json")
    for path in (
        "/v1/checkpoints/latest",
        "/v1/checkpoints/{tree_size}",
        "/v1/events/{event_id}/proof",
        "/v1/checkpoints/{first}/consistency/{second}",
        "/v1/verify",
    ):
        assert "get" in document["paths"][path]
    for schema in ("Checkpoint", "InclusionProof", "ConsistencyProof", "VerifyReport"):
        assert schema in document["components"]["schemas"]
