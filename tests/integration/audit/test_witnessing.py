"""The witnessing follower on both backends, with a witness served in process over HTTP: each
new checkpoint is cosigned and stored beside it, a witness that lost its state is brought up
to date from size 0, and a fork is recorded as the witness's refusal, not cosigned."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from ledger.audit import AuditLog, Checkpointer
from ledger.audit.cosigning import Cosigner
from ledger.audit.messages import Checkpoint
from ledger.audit.notes import checkpoint_note
from ledger.audit.signing import Signer, new_signing_key
from ledger.audit.witnessing import WitnessEndpoint, WitnessFollower
from ledger.domain.notes import verifier_key
from ledger.witness.config import parse_logs
from ledger.witness.server import create_witness_app
from ledger.witness.state import WitnessState
from ledger.witness.witness import Witness

from ...signed_notes import independently_cosigned

COSIGNER = Cosigner("witness.example/w1", Signer.from_base64(new_signing_key()))


async def served_witness(audit: AuditLog, path: Path) -> TestServer:
    assert audit.signer is not None
    logs = parse_logs([verifier_key("release-ledger", audit.signer.public_key)])
    witness = Witness(COSIGNER, logs, WitnessState(path / "witness.sqlite"))
    server = TestServer(create_witness_app(witness), host="127.0.0.1")
    await server.start_server()
    return server


@pytest.fixture
async def follower(audit: AuditLog, tmp_path: Path) -> AsyncIterator[WitnessFollower]:
    server = await served_witness(audit, tmp_path / "w")
    endpoint = WitnessEndpoint.of(str(server.make_url("")).rstrip("/"), COSIGNER.key.verifier_key)
    follower = WitnessFollower(audit, [endpoint], poll_seconds=0.05, backoff=(0.05, 0.1))
    follower.start()
    yield follower
    await follower.stop()
    await server.close()


async def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    async with asyncio.timeout(timeout):
        while not (found := await check()):
            await asyncio.sleep(0.05)
    return found


async def cosigned(audit: AuditLog, size: int) -> Checkpoint:
    async def found() -> Checkpoint | None:
        latest = await audit.latest()
        return latest if latest and latest.tree_size == size and latest.cosignatures else None

    checkpoint: Checkpoint = await eventually(found)
    return checkpoint


async def test_each_new_checkpoint_is_cosigned_and_stored_beside_it(
    story: Any, checkpointer: Checkpointer, audit: AuditLog, follower: WitnessFollower
) -> None:
    await story.begins()
    await checkpointer.catch_up()
    first = await checkpointer.checkpoint()
    assert first is not None
    shown = await cosigned(audit, first.tree_size)
    [cosignature] = shown.cosignatures
    assert cosignature.witness == "witness.example/w1"
    note = (shown.note or "") + cosignature.line
    assert independently_cosigned(note, COSIGNER.key.verifier_key) == cosignature.timestamp

    await story.ends()
    await checkpointer.catch_up()
    second = await checkpointer.checkpoint()
    assert second is not None and second.tree_size > first.tree_size
    await cosigned(audit, second.tree_size)
    [status] = await audit.witnesses.all()
    assert (status.tree_size, status.root_hash, status.error) == (
        second.tree_size,
        second.root_hash,
        None,
    )
    assert await audit.checkpoint(first.tree_size) == shown  # the first keeps its own


async def test_a_fork_is_recorded_as_the_witnesss_refusal(
    story: Any, checkpointer: Checkpointer, audit: AuditLog, follower: WitnessFollower
) -> None:
    await story.begins()
    await checkpointer.catch_up()
    honest = await checkpointer.checkpoint()
    assert honest is not None
    await cosigned(audit, honest.tree_size)
    await follower.stop()
    forged = "ab" * 32  # the same size, another root, signed with the ledger's key
    await audit.database.execute("DELETE FROM ledger_checkpoints")
    note, signature = checkpoint_note("release-ledger", honest.tree_size, forged, audit.signer)
    await audit.database.execute(
        "INSERT INTO ledger_checkpoints (tree_size, root_hash, created_at, signature, key_id, "
        "note) VALUES ($1, $2, $3, $4, $5, $6)",
        honest.tree_size, forged, honest.created_at, signature, honest.key_id, note,
    )  # fmt: skip
    follower.start()

    async def refused() -> str | None:
        [status] = await audit.witnesses.all()
        return status.error

    error = await eventually(refused)
    assert f"it cosigned another tree of size {honest.tree_size} of this log (a fork)" in error
    latest = await audit.latest()
    assert latest is not None and latest.cosignatures == ()
